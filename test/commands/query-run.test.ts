// `discover-metrics query run` end to end: output formats and clear errors (exit 2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../peer/harness.js';
import { tempStore } from '../engines/local/helpers.js';
import { Store } from '../../src/store/store.js';

let dir: string;
let storePath: string;
let emptyStore: string;
const funnel = { kind: 'FunnelsQuery', series: [{ kind: 'EventsNode', event: 'a' }, { kind: 'EventsNode', event: 'b' }], dateRange: { date_from: '2024-01-01', date_to: '2024-01-31' } };
const file = (name: string, content: string) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dm-query-cli-'));
  const t = await tempStore([
    { event: 'a', distinct_id: 'u1', timestamp: '2024-01-02T10:00:00Z' },
    { event: 'b', distinct_id: 'u1', timestamp: '2024-01-02T11:00:00Z' },
    { event: 'a', distinct_id: 'u2', timestamp: '2024-01-03T10:00:00Z' },
  ]);
  await t.store.close();
  storePath = t.path;
  emptyStore = join(dir, 'empty.duckdb');
  await (await Store.open(emptyStore)).close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('query run', () => {
  it('prints the PostHog response with --format json and a summary table otherwise', async () => {
    const q = file('f.json', JSON.stringify({ query: funnel }));
    const json = await runCli(['--store', storePath, 'query', 'run', q, '--format', 'json', '--now', '2024-02-01T00:00:00Z']);
    expect(json.code).toBe(0);
    const res = JSON.parse(json.stdout) as { results: { name: string; count: number; median_conversion_time: number | null }[]; resolved_date_range: unknown };
    expect(res.results.map((s) => [s.name, s.count])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
    expect(res.results[1]!.median_conversion_time).toBe(3600);
    expect(res.resolved_date_range).toEqual({ date_from: '2024-01-01T00:00:00+00:00', date_to: '2024-01-31T23:59:59.999999+00:00' });
    const table = await runCli(['--store', storePath, 'query', 'run', '-'], { input: JSON.stringify(funnel) });
    expect(table.code).toBe(0);
    // the same step table as `funnel`: conversion from the first step, median time from the previous
    expect(table.stdout).toMatch(/From first/);
    expect(table.stdout).toMatch(/50\.0%/);
    expect(table.stdout).toMatch(/ 1h │/);
  });

  it('--print-query prints the validated query without running it', async () => {
    const r = await runCli(['--store', join(dir, 'nope.duckdb'), 'query', 'run', file('p.json', JSON.stringify(funnel)), '--print-query']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ query: funnel });
  });

  it('names the JSON path and what was expected', async () => {
    const bad = file('bad.json', JSON.stringify({ kind: 'FunnelsQuery', series: [{ kind: 'EventsNode', event: 'a' }, { kind: 'EventsNode', event: 3 }] }));
    const r = await runCli(['--store', storePath, 'query', 'run', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}: query.series[1].event: expected string, got number`);
    const syntax = file('syntax.json', '{\n  "kind": "FunnelsQuery",\n  "series": [,]\n}');
    const s = await runCli(['--store', storePath, 'query', 'run', syntax]);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain(`${syntax}:3:14: invalid JSON`);
  });

  it('names unknown kinds and operators, and PostHog validation errors', async () => {
    const kind = await runCli(['--store', storePath, 'query', 'run', file('k.json', '{"kind":"FunnelQuery"}')]);
    expect(kind.code).toBe(2);
    expect(kind.stderr).toContain("unknown query kind 'FunnelQuery' (did you mean 'FunnelsQuery'?)");
    const op = await runCli(['--store', storePath, 'query', 'run', file('o.json', JSON.stringify({ ...funnel, properties: [{ key: 'x', value: 1, operator: 'equals' }] }))]);
    expect(op.code).toBe(2);
    expect(op.stderr).toContain('query.properties[0].operator: unknown operator "equals"');
    const one = await runCli(['--store', storePath, 'query', 'run', file('one.json', JSON.stringify({ ...funnel, series: [funnel.series[0]] }))]);
    expect(one.code).toBe(2);
    expect(one.stderr).toContain('Funnels require at least two steps.');
  });

  it('tells how to load or seed data when the store is missing', async () => {
    const q = file('q.json', JSON.stringify(funnel));
    const missing = await runCli(['--store', join(dir, 'missing.duckdb'), 'query', 'run', q]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no event store at .*missing\.duckdb/);
    expect(missing.stderr).toMatch(/discover-metrics load FILE.*discover-metrics seed/s);
  });

  it('answers PostHog\'s empty results over an empty store, and its validation errors before that', async () => {
    const steps = await runCli(['--store', emptyStore, 'query', 'run', file('e.json', JSON.stringify(funnel)), '--format', 'json']);
    expect(steps.code).toBe(0);
    expect((JSON.parse(steps.stdout) as { results: unknown }).results).toEqual([]);
    const ttc = { ...funnel, funnelsFilter: { funnelVizType: 'time_to_convert' } };
    const zeros = await runCli(['--store', emptyStore, 'query', 'run', file('t.json', JSON.stringify(ttc)), '--format', 'json']);
    expect(zeros.code).toBe(0);
    expect((JSON.parse(zeros.stdout) as { results: unknown }).results).toEqual({ bins: [[0, 0], [60, 0]], average_conversion_time: null, median_conversion_time: null });
    const partial = {
      ...funnel,
      series: [...funnel.series, { kind: 'EventsNode', event: 'c' }],
      funnelsFilter: { funnelOrderType: 'unordered', exclusions: [{ kind: 'EventsNode', event: 'x', funnelFromStep: 0, funnelToStep: 1 }] },
    };
    const bad = await runCli(['--store', emptyStore, 'query', 'run', file('p.json', JSON.stringify(partial))]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Partial Exclusions not allowed in unordered funnels');
  });
});
