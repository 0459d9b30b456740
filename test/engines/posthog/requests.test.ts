/**
 * Every report through the posthog engine against a sandbox as strict as PostHog: each query
 * sent must validate against the PostHog-aligned schema (the sandbox answers 400 otherwise), and
 * the Discover reports stay inside the request budget (PostHog: 240/min, 1,200/h per key).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replay } from '../../../src/replay/replay.js';
import { POSTHOG_QUERY_SCHEMAS } from '../../../src/query/schema.js';
import { loadTracks, buildTimeToFirstQuery, buildFailuresByStepQuery, buildTopErrorsQuery } from '../../../src/definitions/discover.js';
import { planTrackFunnels } from '../../../src/discover/funnel.js';
import { planStepHistograms } from '../../../src/discover/steps.js';
import { storedUuidsQuery } from '../../../src/replay/verify.js';
import { PKEY, TOKEN, discoverEvents, runCli, sandbox, tmp, writeFixture } from '../../sandbox/helpers.js';

let sb: Awaited<ReturnType<typeof sandbox>>;
/** Every query the sandbox was asked to run, as JSON. */
const asked: string[] = [];
const RANGE = ['--from', '2026-01-01', '--to', '2026-01-10'];
const env = () => ({ POSTHOG_HOST: sb.url, POSTHOG_PROJECT_ID: '1', POSTHOG_PERSONAL_API_KEY: PKEY, DISCOVER_METRICS_ENGINE: 'posthog' });

beforeAll(async () => {
  const lines = discoverEvents('req', 30);
  sb = await sandbox({ onQuery: (q) => void asked.push(JSON.stringify(q)) });
  const r = await replay({ files: [writeFixture(tmp(), 'd.jsonl', lines)], host: sb.url, projectApiKey: TOKEN, quiet: true, log: () => {} });
  expect(r.sent).toBe(lines.length);
});
afterAll(async () => sb?.close());

/** "note: 15 PostHog API requests (15 queries, 0 polls, …)" -> 15 */
function requests(stderr: string): number {
  const m = /note: (\d+) PostHog API requests? \((\d+) quer/.exec(stderr);
  expect(m, stderr).not.toBeNull();
  return Number(m![1]);
}

describe('Discover reports on PostHog: request budget', () => {
  it('funnel --resource all sends at most 30 requests, polls included', async () => {
    const r = await runCli(['funnel', '--resource', 'all', ...RANGE, '--format', 'json'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(requests(r.stderr)).toBeLessThanOrEqual(30);
    expect(r.stderr).toContain('PostHog allows 240/min and 1,200/h per personal API key');
  });

  it('steps --resource all sends at most 100 requests, polls included, even when every step is reached', async () => {
    const r = await runCli(['steps', '--resource', 'all', ...RANGE, '--format', 'json'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(requests(r.stderr)).toBeLessThanOrEqual(100);
    // the worst case: a histogram for every step of every track
    const printed = await runCli(['steps', '--resource', 'all', ...RANGE, '--print-query'], env());
    expect(JSON.parse(printed.stdout).length).toBeLessThanOrEqual(100);
  });
});

describe('--print-query prints every query a report sends', () => {
  for (const report of ['funnel', 'steps']) {
    it(`${report} --resource all`, async () => {
      asked.length = 0;
      const r = await runCli([report, '--resource', 'all', ...RANGE, '--format', 'json'], env());
      expect(r.code, r.stderr).toBe(0);
      const sent = [...asked];
      expect(sent).toHaveLength(requests(r.stderr));
      const printed = await runCli([report, '--resource', 'all', ...RANGE, '--print-query'], env());
      expect(printed.code, printed.stderr).toBe(0);
      const shown = new Set((JSON.parse(printed.stdout) as { query: unknown }[]).map((x) => JSON.stringify(x.query)));
      expect(sent.filter((q) => !shown.has(q)).map((q) => q.slice(0, 200))).toEqual([]);
    });
  }
});

describe('every query a report sends validates against PostHog\'s schema', () => {
  const opts = {
    dateRange: { date_from: '2026-01-01', date_to: '2026-01-10' },
    window: { funnelWindowInterval: 1, funnelWindowIntervalUnit: 'day' as const },
    order: 'ordered' as const,
    deployment: 'cloud' as const,
  };
  const valid = (q: Record<string, unknown>) => {
    const v = POSTHOG_QUERY_SCHEMAS[q.kind as keyof typeof POSTHOG_QUERY_SCHEMAS].safeParse(q);
    expect(v.success, JSON.stringify(v.error?.issues?.slice(0, 2))).toBe(true);
  };

  it('every query the Discover reports build (all tracks, orders, breakdowns, deployments, histograms)', () => {
    const tracks = loadTracks();
    let n = 0;
    for (const order of ['ordered', 'strict', 'unordered'] as const) {
      for (const deployment of ['cloud', 'self-hosted'] as const) {
        const o = { ...opts, order, deployment, breakdown: 'tp.discover.deploy.method' };
        const plan = planTrackFunnels(tracks, o);
        for (const q of [...plan.steps, ...plan.completion, ...planStepHistograms(tracks, o).queries]) (valid(q), n++);
      }
    }
    for (const wizard of [false, true]) {
      for (const signupEvent of [null, 'tp.ui.onboard.getStarted.click']) {
        for (const vizType of ['steps', 'time_to_convert'] as const) (valid(buildTimeToFirstQuery({ ...opts, signupEvent, wizard, byResource: wizard, vizType, binCount: 30 })), n++);
      }
    }
    valid(buildFailuresByStepQuery(['deployService'], opts.dateRange, ['DISCOVER_RESOURCE_SERVER']));
    valid(buildTopErrorsQuery(opts.dateRange, undefined, 10));
    valid(storedUuidsQuery([TOKEN.replace(/./g, 'a')], new Date(), new Date()));
    expect(n).toBeGreaterThan(200);
  });

  it('--print-query prints PostHog request bodies, and the sandbox (strict like PostHog) runs what ttfr and failures send', async () => {
    const printed = await runCli(['funnel', '--resource', 'server', ...RANGE, '--print-query'], env());
    const bodies = JSON.parse(printed.stdout) as Record<string, unknown>[];
    // the step funnel, its required steps alone (server's principals step is optional), the completion funnel
    expect(bodies.map((b) => Object.keys(b))).toEqual([['query'], ['query'], ['query']]);
    for (const args of [['ttfr', '--wizard'], ['failures', '--resource', 'all']]) {
      const ran = await runCli([...args, ...RANGE, '--format', 'json'], env());
      expect(ran.code, ran.stderr).toBe(0);
    }
  });

  it('the sandbox refuses what PostHog refuses: compareFilter on a funnel, unknown keys, a bad regex, a body nested 100,000 deep', async () => {
    const post = (body: string) =>
      fetch(`${sb.url}/api/projects/1/query/`, { method: 'POST', headers: { Authorization: `Bearer ${PKEY}`, 'Content-Type': 'application/json' }, body });
    const funnel = { kind: 'FunnelsQuery', series: [{ kind: 'EventsNode', event: 'a' }, { kind: 'EventsNode', event: 'b' }] };
    const cases: [unknown, RegExp][] = [
      [{ ...funnel, compareFilter: { compare: true } }, /compareFilter/],
      [{ ...funnel, funnelsFilter: { funnelWindowDays: 3 } }, /funnelWindowDays/],
      [{ ...funnel, properties: [{ key: 'x', type: 'event', operator: 'regex', value: '(' }] }, /invalid regular expression/],
    ];
    for (const [q, msg] of cases) {
      const r = await post(JSON.stringify({ query: q }));
      expect(r.status).toBe(400);
      expect(((await r.json()) as { detail: string }).detail).toMatch(msg);
    }
    const deep = await post('{"query":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}');
    expect(deep.status).toBe(400);
    expect((await fetch(`${sb.url}/_sandbox/health`)).status).toBe(200);
  });
});
