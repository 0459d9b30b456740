/**
 * "Do the names in queries/taxonomy.json exist in this project?" — every taxonomy event and
 * property key checked against a project's definitions (PostHog's event and property definitions,
 * or what the local store holds): found, never seen, and near-miss names a project may use
 * instead (a different separator or case, a small typo, the same last segment).
 */
import { editDistance } from '../errors.js';
import { taxonomy } from '../events/taxonomy.js';
import type { Definitions } from '../store/definitions.js';

export interface DoctorRow {
  /** Where the name lives in queries/taxonomy.json, e.g. discover.events.deployService. */
  path: string;
  kind: 'event' | 'event property' | 'person property';
  name: string;
  found: boolean;
  /** Documented by Teleport (RFD 0094/97/0133); every other key is a guess to check. */
  documented: boolean;
  /** Events with this name (local: all; PostHog: last 30 days), when known. */
  volume: number | null;
  lastSeenAt: string | null;
  /** Names the project has that look like this one (only for names not found). */
  nearMisses: string[];
}

export interface DoctorReport {
  source: 'local' | 'posthog';
  checks: DoctorRow[];
  found: number;
  missing: number;
  /** Discover-looking events the project has that the taxonomy does not name. */
  unknownDiscoverEvents: string[];
}

const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
const last = (s: string) => norm(s.split(/[.:/]/).filter(Boolean).pop() ?? s);

/** Names among `have` that look like `want`, best first. */
export function nearMisses(want: string, have: readonly string[], max = 3): string[] {
  const w = norm(want);
  const scored: [string, number][] = [];
  for (const h of have) {
    if (h === want) continue;
    const n = norm(h);
    let score: number | undefined;
    if (n === w) score = 0;
    else if (last(h) === last(want) && last(want).length >= 4 && (n.includes(w.slice(0, 4)) || w.includes(n.slice(0, 4)))) score = 1;
    else {
      const d = editDistance(w, n);
      if (d <= Math.max(2, Math.floor(w.length / 6))) score = 1 + d;
    }
    if (score !== undefined) scored.push([h, score]);
  }
  return scored.sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0])).slice(0, max).map(([h]) => h);
}

export function doctor(defs: Definitions, source: 'local' | 'posthog'): DoctorReport {
  const t = taxonomy();
  const documented = new Set(t.documented ?? []);
  const events = new Map(defs.events.map((e) => [e.name, e]));
  const eventNames = defs.events.map((e) => e.name);
  const props = { event: defs.properties.filter((p) => p.type === 'event').map((p) => p.name), person: defs.properties.filter((p) => p.type === 'person').map((p) => p.name) };
  const propSet = { event: new Set(props.event), person: new Set(props.person) };
  const checks: DoctorRow[] = [];
  const event = (path: string, name: string) => {
    const e = events.get(name);
    checks.push({ path, kind: 'event', name, found: !!e, documented: documented.has(name), volume: e?.volume ?? null, lastSeenAt: e?.lastSeenAt ?? null, nearMisses: e ? [] : nearMisses(name, eventNames) });
  };
  const prop = (path: string, name: string, type: 'event' | 'person') => {
    const found = propSet[type].has(name);
    checks.push({ path, kind: `${type} property`, name, found, documented: documented.has(name), volume: null, lastSeenAt: null, nearMisses: found ? [] : nearMisses(name, props[type]) });
  };
  for (const [k, v] of Object.entries(t.discover.events)) event(`discover.events.${k}`, v);
  if (t.discover.signupEvent) event('discover.signupEvent', t.discover.signupEvent);
  for (const [k, v] of Object.entries(t.discover.properties)) prop(`discover.properties.${k}`, v, 'event');
  for (const [k, v] of Object.entries(t.cluster.properties)) prop(`cluster.properties.${k}`, v, 'event');
  for (const [k, v] of Object.entries(t.connect.events)) event(`connect.events.${k}`, v);
  for (const [k, v] of Object.entries(t.connect.properties)) prop(`connect.properties.${k}`, v, 'event');
  for (const [k, v] of Object.entries(t.connect.personProperties)) prop(`connect.personProperties.${k}`, v, 'person');
  const named = new Set(Object.values(t.discover.events));
  const prefix = t.discover.events.started!.replace(/[^.]+$/, '');
  const unknownDiscoverEvents = eventNames.filter((n) => n.startsWith(prefix) && !named.has(n)).sort();
  const found = checks.filter((c) => c.found).length;
  return { source, checks, found, missing: checks.length - found, unknownDiscoverEvents };
}
