/**
 * Discover reports end to end: generate fixtures, load them, and check every track's funnel
 * against an independent count made straight from the fixture file.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { json, run, tmpDir } from './cli.js';
import { flowSteps, loadTracks } from '../../src/definitions/discover.js';
import { taxonomy } from '../../src/events/taxonomy.js';

const dir = tmpDir('dm-discover-');
const fixture = join(dir, 'events.jsonl');
const store = join(dir, 'store.duckdb');
const RANGE = ['--from', '2026-01-01', '--to', '2026-12-31', '--now', '2026-11-20T12:00:00Z'];

interface Ev {
  event: string;
  timestamp: string;
  properties: Record<string, unknown>;
}

/** Oracle: per wizard session, walk the track's steps greedily (sessions here are single attempts). */
function oracle(events: Ev[], resource: string, steps: string[], windowMs: number) {
  const tx = taxonomy().discover;
  const names = steps.map((s) => tx.events[s]!);
  const bySession = new Map<string, Ev[]>();
  for (const e of events) {
    const id = e.properties[tx.properties.sessionId];
    if (typeof id !== 'string') continue;
    let l = bySession.get(id);
    if (!l) bySession.set(id, (l = []));
    l.push(e);
  }
  const counts = new Array(steps.length).fill(0);
  const gaps: number[][] = steps.map(() => []);
  const ok = (e: Ev, i: number) =>
    e.event === names[i] &&
    ['DISCOVER_STATUS_SUCCESS', 'DISCOVER_STATUS_SKIPPED'].includes(String(e.properties[tx.properties.status])) &&
    (i === 0 || e.properties[tx.properties.resource] === resource);
  for (const list of bySession.values()) {
    list.sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
    if (!list.some((e) => ok(e, 1))) continue; // not this resource's session
    const start = list.find((e) => ok(e, 0));
    if (!start) continue;
    const t0 = Date.parse(start.timestamp);
    let prev = t0;
    counts[0]++;
    for (let i = 1; i < steps.length; i++) {
      const next = list.find((e) => ok(e, i) && Date.parse(e.timestamp) >= prev && Date.parse(e.timestamp) - t0 <= windowMs);
      if (!next) break;
      const t = Date.parse(next.timestamp);
      counts[i]++;
      if (t > prev) gaps[i]!.push((t - prev) / 1000);
      prev = t;
    }
  }
  const median = (xs: number[]) => {
    if (xs.length === 0) return null;
    const s = [...xs].sort((a, b) => a - b);
    const m = (s.length - 1) / 2;
    return (s[Math.floor(m)]! + s[Math.ceil(m)]!) / 2;
  };
  return { counts, medians: gaps.map((g, i) => (i === 0 ? null : median(g))) };
}

let events: Ev[] = [];

beforeAll(async () => {
  const g = await run(['fixtures', 'generate', '--seed', '11', '--accounts', '120', '--installations', '10', '--days', '30', '--out', fixture]);
  expect(g.code, g.stderr).toBe(0);
  const l = await run(['--store', store, 'load', fixture]);
  expect(l.code, l.stderr).toBe(0);
  events = readFileSync(fixture, 'utf8').trim().split('\n').map((x) => JSON.parse(x) as Ev);
});

describe('funnel', () => {
  it('matches an independent count from the fixture file for every track (all at once and one by one)', async () => {
    const all = json(await run(['--store', store, 'funnel', '--resource', 'all', '--format', 'json', ...RANGE]));
    expect(all.resources).toHaveLength(loadTracks().length);
    let checked = 0;
    for (const track of loadTracks()) {
      // the oracle walks the required steps: optional ones never hold a session up
      const flow = flowSteps(track, 'all');
      const required = flow.map((s, i) => ({ ...s, i })).filter((s) => !s.optional);
      const want = oracle(events, track.resource, required.map((s) => s.key), 86_400_000);
      const fromAll = all.resources.find((r: any) => r.slug === track.slug);
      expect(required.map((s) => fromAll.steps[s.i].count), track.slug).toEqual(want.counts);
      expect(fromAll.completed, track.slug).toBe(want.counts[want.counts.length - 1]);
      if (want.counts[0] > 0) checked++;
      if (track.slug === 'server' || track.slug === 'rds-postgres') {
        const one = json(await run(['--store', store, 'funnel', '--resource', track.slug, '--format', 'json', ...RANGE]));
        expect(required.map((s) => one.steps[s.i].count)).toEqual(want.counts);
        expect(required.map((s) => one.steps[s.i].medianSeconds)).toEqual(want.medians);
        expect(one.steps[0]).toMatchObject({ name: 'Started', event: taxonomy().discover.events.started });
      }
    }
    expect(checked).toBeGreaterThan(8);
  });

  it('--print-insight prints InsightVizNodes and a new-insight link per query for PostHog\'s UI', async () => {
    const api = json(await run(['funnel', '--resource', 'eks', '--print-query', ...RANGE])) as { query: unknown }[];
    const env = { POSTHOG_HOST: 'https://eu.posthog.com', POSTHOG_PROJECT_ID: '4242' };
    const r = await run(['funnel', '--resource', 'eks', '--print-insight', ...RANGE], { env });
    expect(r.code, r.stderr).toBe(0);
    const nodes = JSON.parse(r.stdout) as unknown[];
    expect(nodes).toEqual(api.map((b) => ({ kind: 'InsightVizNode', source: b.query })));
    const links = r.stderr.split('\n').filter((l) => l.startsWith('query '));
    expect(links).toHaveLength(nodes.length);
    links.forEach((l, i) => {
      const m = /^query (\d+): (https:\/\/eu\.posthog\.com\/project\/4242\/insights\/new#q=)(.+)$/.exec(l);
      expect(m, l).not.toBeNull();
      expect(Number(m![1])).toBe(i + 1);
      expect(JSON.parse(decodeURIComponent(m![3]!))).toEqual(nodes[i]);
    });
    // without a project to link to: the nodes, and a hint how to get links
    const bare = await run(['funnel', '--resource', 'eks', '--print-insight', ...RANGE], { env: { POSTHOG_HOST: '', POSTHOG_PROJECT_ID: '' } });
    expect(JSON.parse(bare.stdout)).toEqual(nodes);
    expect(bare.stderr).not.toContain('insights/new');
    expect(bare.stderr).toContain('set --host and --project-id');
    expect((await run(['funnel', '--resource', 'eks', '--print-query', 'chart', ...RANGE])).code).toBe(2);
  });

  it('prints the exact FunnelsQuery with --print-query and renders csv/markdown', async () => {
    const sent = json(await run(['funnel', '--resource', 'eks', '--print-query', ...RANGE]));
    // every query the report sends, as PostHog's request bodies: the step funnel, the funnel of its
    // required steps alone (eks has optional steps: their times), and the completion funnel
    expect(sent).toHaveLength(3);
    const q = sent[0].query;
    expect(q.kind).toBe('FunnelsQuery');
    expect(sent[1].query.series.length).toBeLessThan(q.series.length);
    expect(sent[2].query.series).toHaveLength(2);
    expect(q.dateRange).toEqual({ date_from: '2026-01-01', date_to: '2026-12-31' });
    const csv = await run(['--store', store, 'funnel', '--resource', 'server', '--format', 'csv', ...RANGE]);
    expect(csv.code).toBe(0);
    expect(csv.stdout.split('\n')[0]).toBe('step,name,event,count,conversionFromPrevious,conversionFromFirst,dropOff,medianSeconds,averageSeconds,range_from,range_to,date_from,date_to');
    const md = await run(['--store', store, 'funnel', '--resource', 'server', '--format', 'markdown', ...RANGE]);
    expect(md.stdout).toMatch(/^### /);
    expect(md.stdout).toContain('| # | Step |');
  });

  it('rejects bad input with exit 2 and a reason', async () => {
    const r = await run(['--store', store, 'funnel', '--resource', 'rds-postgress']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("did you mean 'rds-postgres'");
    expect((await run(['--store', store, 'funnel', '--from', '2026-11-10', '--to', '2026-11-01'])).stderr).toMatch(/--from 2026-11-10 is after --to 2026-11-01/);
    expect((await run(['--store', store, 'funnel', '--from', 'yesterday'])).code).toBe(2);
    expect((await run(['--store', store, 'funnel', '--window', 'forever'])).code).toBe(2);
    const u = await run(['--store', store, 'funel']);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/Did you mean funnel\?/i);
    const empty = await run(['--store', join(dir, 'nothing-here.duckdb'), 'funnel']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/seed|load/);
  });

  it('the printed query, run through query run, gives the report\'s numbers', async () => {
    const printed = await run(['funnel', '--resource', 'kubernetes', '--print-query', ...RANGE]);
    expect(printed.code).toBe(0);
    const response = json(await run(['--store', store, 'query', 'run', '-', '--format', 'json', '--now', '2026-11-20T12:00:00Z'], { input: printed.stdout }));
    const bucket = (response[0].results as any[][]).find((steps) => steps[0].breakdown_value[0] === 'DISCOVER_RESOURCE_KUBERNETES');
    const report = json(await run(['--store', store, 'funnel', '--resource', 'kubernetes', '--format', 'json', ...RANGE]));
    expect(bucket!.map((s: any) => s.count)).toEqual(report.steps.map((s: any) => s.count));
    // kubernetes has one optional step, `completed`, last: the required steps' times line up
    const required = report.steps.filter((s: any) => !s.optional);
    expect(required.map((s: any) => bucket![s.step - 1].median_conversion_time)).toEqual(required.map((s: any) => s.medianSeconds));
  });

  it('lists the tracks', async () => {
    const l = json(await run(['funnel', '--resource', 'list', '--format', 'json']));
    expect(l.resources.map((r: any) => r.slug)).toContain('rds-mysql');
  });
});

describe('other Discover reports', () => {
  it('steps: median per step equals the funnel median, p90 is at least the median', async () => {
    const s = json(await run(['--store', store, 'steps', '--resource', 'server', '--format', 'json', ...RANGE]));
    const f = json(await run(['--store', store, 'funnel', '--resource', 'server', '--format', 'json', ...RANGE]));
    expect(s.steps.map((x: any) => x.medianSeconds)).toEqual(f.steps.slice(1).map((x: any) => x.medianSeconds));
    for (const x of s.steps) if (x.sessions > 0 && !x.optional) expect(x.p90Seconds + x.p90BinSeconds).toBeGreaterThanOrEqual(x.medianSeconds);
  });

  it('failures: ERROR/ABORTED per step equal the fixture counts', async () => {
    const r = json(await run(['--store', store, 'failures', '--resource', 'server', '--format', 'json', ...RANGE]));
    const tx = taxonomy().discover;
    for (const row of r.steps) {
      const n = (status: string) =>
        events.filter((e) => e.event === row.event && e.properties[tx.properties.status] === status && e.properties[tx.properties.resource] === 'DISCOVER_RESOURCE_SERVER').length;
      expect(row.errors, row.key).toBe(n('DISCOVER_STATUS_ERROR'));
      expect(row.abortedEvents, row.key).toBe(n('DISCOVER_STATUS_ABORTED'));
      expect(row.aborted, row.key).toBeLessThanOrEqual(row.abortedEvents);
    }
    const totalErrors = events.filter((e) => e.properties[tx.properties.status] === 'DISCOVER_STATUS_ERROR' && e.properties[tx.properties.resource] === 'DISCOVER_RESOURCE_SERVER').length;
    expect(r.topErrors.reduce((s: number, e: any) => s + e.errors, 0)).toBe(totalErrors);
  });

  it('time-to-first-resource: accounts and wizard sessions', async () => {
    const a = json(await run(['--store', store, 'time-to-first-resource', '--format', 'json', ...RANGE]));
    expect(a.entered).toBeGreaterThan(0);
    expect(a.converted).toBeGreaterThan(0);
    expect(a.converted).toBeLessThanOrEqual(a.entered);
    expect(a.histogram.reduce((s: number, b: any) => s + b.count, 0)).toBe(a.converted);
    expect(a.p90Seconds).toBeGreaterThanOrEqual(a.p75Seconds);
    const w = json(await run(['--store', store, 'ttfr', '--wizard', '--format', 'json', ...RANGE]));
    expect(w.mode).toBe('wizard');
    expect(w.byResource.length).toBeGreaterThan(3);
  });
});

describe('funnel passes on two threads', () => {
  it('give the same report as one thread', async () => {
    const one = await run(['--store', store, 'funnel', '--resource', 'all', '--format', 'json', ...RANGE], { env: { DISCOVER_METRICS_FUNNEL_THREADS: '1', DISCOVER_METRICS_DEBUG: 'funnel' } });
    const two = await run(['--store', store, 'funnel', '--resource', 'all', '--format', 'json', ...RANGE], { env: { DISCOVER_METRICS_FUNNEL_THREADS_MIN_EVENTS: '0', DISCOVER_METRICS_DEBUG: 'funnel' } });
    expect(one.code, one.stderr).toBe(0);
    expect(two.code, two.stderr).toBe(0);
    expect(one.stderr).not.toMatch(/on 2 threads/);
    // the step funnels, the required-step funnels of tracks with optional steps, and the completion funnels shared by tracks with the same ends
    expect(two.stderr).toMatch(/\d+ funnels on 2 threads/);
    expect(JSON.parse(two.stdout)).toEqual(JSON.parse(one.stdout));
  });
});
