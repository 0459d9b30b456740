import { describe, expect, it } from 'vitest';
import { parseQuery } from '../../src/query/parse.js';
import { parseJsonText } from '../../src/query/input.js';
import { validateFunnelsQuery } from '../../src/engines/local/funnels/spec.js';
import { parseFieldExpr } from '../../src/engines/local/hogql.js';
import type { FunnelsQuery } from '../../src/query/schema.js';

const ev = (event: unknown, extra: object = {}) => ({ kind: 'EventsNode', event, ...extra });
const funnel = (over: object = {}) => ({ kind: 'FunnelsQuery', series: [ev('a'), ev('b'), ev('c')], ...over });

describe('parseQuery', () => {
  it('accepts {kind} and {query: {kind}} and keeps unknown keys', () => {
    const q = parseQuery({ query: funnel({ extra: 1 }) }, 'q.json');
    expect(q.kind).toBe('FunnelsQuery');
    expect((q as { extra?: number }).extra).toBe(1);
  });
  it('reports the JSON path and what was expected', () => {
    expect(() => parseQuery({ kind: 'FunnelsQuery', series: [ev('a'), ev(3)] }, 'q.json')).toThrow('q.json: query.series[1].event: expected string, got number');
    expect(() => parseQuery(funnel({ funnelsFilter: { funnelOrderType: 'random' } }), 'q.json')).toThrow(
      'q.json: query.funnelsFilter.funnelOrderType: unknown funnelOrderType "random"; expected one of "ordered", "strict", "unordered"',
    );
    expect(() => parseQuery({ kind: 'FunnelsQuery', series: [ev('a', { properties: [{ key: 'x', operator: 'equals', value: 1 }] })] }, 'q.json')).toThrow(
      /query\.series\[0\]\.properties\[0\]\.operator: unknown operator "equals"/,
    );
    expect(() => parseQuery({ kind: 'FunnelsQuery' }, 'q.json')).toThrow('q.json: query.series: expected array, but it is missing');
  });
  it('names unknown kinds with a suggestion', () => {
    expect(() => parseQuery({ kind: 'FunelsQuery' }, 'q.json')).toThrow("q.json: query.kind: unknown query kind 'FunelsQuery' (did you mean 'FunnelsQuery'?)");
    expect(() => parseQuery({ kind: 'FunnelsQuery', series: [{ kind: 'EventNode', event: 'a' }] }, 'q.json')).toThrow(/query\.series\[0\]\.kind: unknown kind; expected one of "EventsNode", "ActionsNode", got "EventNode"/);
    expect(() => parseQuery([1], 'q.json')).toThrow(/expected a PostHog query object/);
  });
  it('reports JSON syntax errors with file:line:column', () => {
    expect(() => parseJsonText('{\n  "kind": "FunnelsQuery",\n  "series": [}\n', 'q.json')).toThrow(/^q\.json:3:14: invalid JSON/);
    expect(() => parseJsonText('{"kind": ', 'q.json')).toThrow(/^q\.json:1:10: invalid JSON: unexpected end of input/);
  });
});

describe('PostHog funnel validation rules (same messages)', () => {
  const v = (q: object) => () => validateFunnelsQuery(parseQuery(q, 'q') as unknown as FunnelsQuery);
  it('requires two steps', () => expect(v({ kind: 'FunnelsQuery', series: [ev('a')] })).toThrow('Funnels require at least two steps.'));
  it('checks the step range', () => {
    expect(v(funnel({ funnelsFilter: { funnelFromStep: 2 } }))).toThrow('funnelFromStep is out of bounds. It must be between 0 and 1.');
    expect(v(funnel({ funnelsFilter: { funnelToStep: 3 } }))).toThrow('funnelToStep is out of bounds. It must be between 1 and 2.');
    expect(v(funnel({ funnelsFilter: { funnelFromStep: 1, funnelToStep: 1 } }))).toThrow('Funnel step range is invalid. funnelToStep should be greater than funnelFromStep.');
  });
  it('checks exclusions', () => {
    const x = (from: number, to: number, event = 'x') => ({ kind: 'EventsNode', event, funnelFromStep: from, funnelToStep: to });
    expect(v(funnel({ funnelsFilter: { exclusions: [x(1, 1)] } }))).toThrow('Exclusion event range is invalid. End of range should be greater than start.');
    expect(v(funnel({ funnelsFilter: { exclusions: [x(2, 3)] } }))).toThrow('Exclusion event range is invalid. Start of range is greater than number of steps.');
    expect(v(funnel({ funnelsFilter: { exclusions: [x(0, 3)] } }))).toThrow('Exclusion event range is invalid. End of range is greater than number of steps.');
    expect(v(funnel({ funnelsFilter: { exclusions: [x(0, 1, 'b')] } }))).toThrow("Exclusion steps cannot contain an event that's part of funnel steps.");
    expect(v(funnel({ funnelsFilter: { funnelOrderType: 'unordered', exclusions: [x(0, 1)] } }))).toThrow('Partial Exclusions not allowed in unordered funnels');
    expect(v(funnel({ funnelsFilter: { funnelOrderType: 'unordered', breakdownAttributionType: 'step', breakdownAttributionValue: 1 } }))).toThrow(
      'Only the first step can be used for breakdown attribution in unordered funnels',
    );
  });
  it('checks optional steps', () => {
    expect(v({ kind: 'FunnelsQuery', series: [ev('a', { optionalInFunnel: true }), ev('b')] })).toThrow('The first step of a funnel cannot be optional.');
    expect(v({ kind: 'FunnelsQuery', series: [ev('a'), ev('b', { optionalInFunnel: true }), ev('b')] })).toThrow('An optional step cannot be the same as the following required step.');
    expect(v({ kind: 'FunnelsQuery', series: [ev('a'), ev('b', { optionalInFunnel: true })], funnelsFilter: { funnelVizType: 'trends' } })).toThrow(/Optional funnel steps are only supported/);
  });
});

describe('funnelAggregateByHogQL fields', () => {
  it('reads property chains in every quoting', () => {
    expect(parseFieldExpr('properties.$session_id', 'w')).toEqual({ kind: 'event_property', key: '$session_id' });
    expect(parseFieldExpr('properties.`tp.discover.metadata.id`', 'w')).toEqual({ kind: 'event_property', key: 'tp.discover.metadata.id' });
    expect(parseFieldExpr("properties['tp.discover.metadata.id']", 'w')).toEqual({ kind: 'event_property', key: 'tp.discover.metadata.id' });
    expect(parseFieldExpr('person.properties.email', 'w')).toEqual({ kind: 'person_property', key: 'email' });
    expect(parseFieldExpr('distinct_id', 'w')).toEqual({ kind: 'column', column: 'distinct_id' });
    expect(parseFieldExpr('$session_id', 'w')).toEqual({ kind: 'event_property', key: '$session_id' });
  });
  it('rejects anything else, naming the field', () => {
    expect(() => parseFieldExpr('lower(properties.x)', 'query.funnelsFilter.funnelAggregateByHogQL')).toThrow(/query\.funnelsFilter\.funnelAggregateByHogQL/);
  });
});
