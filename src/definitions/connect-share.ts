/**
 * The "share of cluster users on Connect" definition (queries/connect/share.json) and its
 * compilation to two PostHog TrendsQuery objects: active (cluster, user) pairs per period on the
 * cluster side and on the Connect side, each a two-property breakdown (one row per pair, a
 * non-zero value in the periods the pair was active).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { QUERIES_DIR, taxonomy, type Taxonomy } from '../events/taxonomy.js';
import { InputError } from '../errors.js';
import type { DateRange } from '../query/schema.js';
import type { TrendsQuery } from '../query/schema.js';
import { activityProperties, type ConnectDefinitions, type ReportInterval } from './connect.js';

const Ref = z.string().regex(/^[A-Za-z]+(\.[A-Za-z]+)+$/, 'expected a taxonomy key path like "cluster.properties.userName"');
const Side = z.object({ cluster: Ref, user: Ref }).strict();
const ShareFileSchema = z
  .object({
    $comment: z.string().optional(),
    share: z.object({ title: z.string().min(1), clusterSide: Side, connectSide: Side, maxPairs: z.number().int().min(1).max(100_000) }).strict(),
  })
  .strict();

export interface ShareDefinition {
  title: string;
  clusterSide: { cluster: string; user: string };
  connectSide: { cluster: string; user: string };
  maxPairs: number;
}

function lookup(t: Taxonomy, ref: string, where: string): string {
  let cur: unknown = t;
  for (const p of ref.split('.')) {
    if (!cur || typeof cur !== 'object' || !(p in (cur as object))) throw new InputError(where, `'${ref}' is not a key path in queries/taxonomy.json`);
    cur = (cur as Record<string, unknown>)[p];
  }
  if (typeof cur !== 'string') throw new InputError(where, `'${ref}' names a group in queries/taxonomy.json, not a single name`);
  return cur;
}

export function loadShareDefinition(file = join(QUERIES_DIR, 'connect', 'share.json'), t: Taxonomy = taxonomy()): ShareDefinition {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(file, `cannot read: ${(e as Error).message}`);
  }
  const r = ShareFileSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new InputError(file, `${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  const s = r.data.share;
  const side = (x: { cluster: string; user: string }, name: string) => ({
    cluster: lookup(t, x.cluster, `${file}: share.${name}.cluster`),
    user: lookup(t, x.user, `${file}: share.${name}.user`),
  });
  return { title: s.title, clusterSide: side(s.clusterSide, 'clusterSide'), connectSide: side(s.connectSide, 'connectSide'), maxPairs: s.maxPairs };
}

export interface ShareQueryOptions {
  dateRange: DateRange;
  interval: ReportInterval;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function pairQuery(keys: { cluster: string; user: string }, properties: Record<string, unknown>[], name: string, o: ShareQueryOptions, maxPairs: number): TrendsQuery {
  return {
    kind: 'TrendsQuery',
    series: [{ kind: 'EventsNode', event: null, name: 'All events', custom_name: name, math: 'total' }],
    interval: o.interval,
    dateRange: { date_from: o.dateRange.date_from, date_to: o.dateRange.date_to },
    properties: [...properties, { type: 'event', key: keys.cluster, operator: 'is_set' }, { type: 'event', key: keys.user, operator: 'is_set' }],
    filterTestAccounts: false,
    breakdownFilter: {
      breakdowns: [
        { property: keys.cluster, type: 'event' },
        { property: keys.user, type: 'event' },
      ],
      breakdown_limit: maxPairs,
    },
    trendsFilter: { display: 'ActionsLineGraph' },
  } as TrendsQuery;
}

/** [cluster side, Connect side]: active (cluster, user) pairs per period. */
export function buildShareQueries(defs: ConnectDefinitions, share: ShareDefinition, o: ShareQueryOptions): [TrendsQuery, TrendsQuery] {
  const notConnect = { type: 'event_metadata', key: 'distinct_id', operator: 'not_regex', value: `^${escapeRegex(defs.activity.installationIdPrefix)}` };
  return [
    pairQuery(share.clusterSide, [notConnect], 'Cluster users', o, share.maxPairs),
    pairQuery(share.connectSide, activityProperties(defs.activity), 'Connect users', o, share.maxPairs),
  ];
}
