import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { propertyFiltersSql, usesPersonProperties } from '../../../src/engines/local/filters.js';
import { tempStore, type TempStore } from './helpers.js';

let t: TempStore;
beforeAll(async () => {
  t = await tempStore(
    [
      { event: 'e', distinct_id: 'a', timestamp: '2024-01-01T00:00:00Z', properties: { $browser: 'Chrome', n: 5, flag: true, url: 'https://x.com/Docs' } },
      { event: 'e', distinct_id: 'b', timestamp: '2024-01-01T00:00:00Z', properties: { $browser: 'Safari', n: 12 } },
      { event: 'e', distinct_id: 'c', timestamp: '2024-01-01T00:00:00Z', properties: { n: '7' } },
    ],
    [{ distinct_ids: ['a'], properties: { email: 'a@goteleport.com' } }, { distinct_ids: ['b'], properties: { email: 'b@example.com' } }],
    ['$browser'],
  );
});
afterAll(async () => t.cleanup());

async function who(filters: unknown): Promise<string[]> {
  const where = propertyFiltersSql(filters, { store: t.store, eventAlias: 'e', personAlias: 'p' });
  const r = await t.store.conn.runAndReadAll(`SELECT e.distinct_id FROM events e LEFT JOIN persons p ON p.id = e.person_id WHERE ${where} ORDER BY 1`);
  return r.getRows().map((x) => String(x[0]));
}

describe('propertyFiltersSql (PostHog operator semantics)', () => {
  it('is TRUE when empty', async () => {
    expect(propertyFiltersSql([], { store: t.store, eventAlias: 'e', personAlias: 'p' })).toBe('TRUE');
    expect(await who(null)).toEqual(['a', 'b', 'c']);
  });
  it('exact / is_not with single values and lists; is_not matches a missing property', async () => {
    expect(await who([{ key: '$browser', value: 'Chrome', operator: 'exact', type: 'event' }])).toEqual(['a']);
    expect(await who([{ key: '$browser', value: ['Chrome', 'Safari'], operator: 'exact' }])).toEqual(['a', 'b']);
    expect(await who([{ key: '$browser', value: 'Chrome', operator: 'is_not' }])).toEqual(['b', 'c']);
    expect(await who([{ key: 'n', value: 5 }])).toEqual(['a']);
    expect(await who([{ key: 'flag', value: true }])).toEqual(['a']);
  });
  it('icontains / not_icontains / regex / not_regex', async () => {
    expect(await who([{ key: 'url', value: 'docs', operator: 'icontains' }])).toEqual(['a']);
    expect(await who([{ key: 'url', value: 'docs', operator: 'not_icontains' }])).toEqual(['b', 'c']);
    expect(await who([{ key: '$browser', value: '^(Chr|Saf)', operator: 'regex' }])).toEqual(['a', 'b']);
    expect(await who([{ key: '$browser', value: '^Chr', operator: 'not_regex' }])).toEqual(['b', 'c']);
  });
  it('numeric gt/lt and set / not set', async () => {
    expect(await who([{ key: 'n', value: 6, operator: 'gt' }])).toEqual(['b', 'c']);
    expect(await who([{ key: 'n', value: '7', operator: 'lt' }])).toEqual(['a']);
    expect(await who([{ key: '$browser', operator: 'is_set', value: 'is_set' }])).toEqual(['a', 'b']);
    expect(await who([{ key: '$browser', operator: 'is_not_set', value: 'is_not_set' }])).toEqual(['c']);
  });
  it('person properties, event metadata and AND/OR groups', async () => {
    const f = [{ key: 'email', value: 'goteleport.com', operator: 'icontains', type: 'person' }];
    expect(usesPersonProperties(f)).toBe(true);
    expect(await who(f)).toEqual(['a']);
    expect(await who([{ key: 'distinct_id', value: 'c', type: 'event_metadata' }])).toEqual(['c']);
    expect(
      await who({
        type: 'OR',
        values: [
          { type: 'AND', values: [{ key: '$browser', value: 'Safari' }] },
          { type: 'AND', values: [{ key: 'n', value: '7' }] },
        ],
      }),
    ).toEqual(['b', 'c']);
  });
  it('names unknown operators and types', () => {
    const env = { store: t.store, eventAlias: 'e', personAlias: 'p', where: 'query.properties' };
    expect(() => propertyFiltersSql([{ key: 'x', value: 1, operator: 'equals' }], env)).toThrow("query.properties[0].operator: unknown operator 'equals'");
    expect(() => propertyFiltersSql([{ key: 'x', value: 1, type: 'cohort' }], env)).toThrow(/query\.properties\[0\]\.type: property filter type 'cohort'/);
  });
});
