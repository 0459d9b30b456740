/**
 * A small deterministic Teleport Connect event fixture (names from queries/taxonomy.json), plus
 * the expected numbers counted straight from the events, independently of any query engine.
 */
import { taxonomy } from '../../../../src/events/taxonomy.js';
import type { TestEvent, TestPerson } from './helpers.js';

export interface ConnectFixture {
  events: TestEvent[];
  persons: TestPerson[];
  /** first day (UTC) of the fixture, YYYY-MM-DD */
  start: string;
  days: number;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function connectFixture(seed = 7, installations = 40, days = 20, start = '2026-01-01'): ConnectFixture {
  const t = taxonomy();
  const ev = t.connect.events;
  const p = t.connect.properties;
  const pp = t.connect.personProperties;
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const events: TestEvent[] = [];
  const persons: TestPerson[] = [];
  const day0 = Date.parse(`${start}T00:00:00Z`);
  for (let i = 0; i < installations; i++) {
    const id = `${t.connect.distinctIdPrefix}${(i + 1).toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
    const props: Record<string, unknown> = {};
    if (i % 9 !== 0) props[pp.os] = pick(['darwin', 'linux', 'win32']);
    props[pp.arch] = pick(['arm64', 'x64']);
    props[pp.osVersion] = pick(['14.1', '13.6', '6.5.0', '10.0.22631']);
    props[pp.appVersion] = pick(['15.0.0', '15.1.2', '16.0.0']);
    persons.push({ distinct_ids: [id], properties: props });
    const activity = 0.15 + r() * 0.6;
    for (let d = 0; d < days; d++) {
      if (r() > activity) continue;
      const n = 1 + Math.floor(r() * 4);
      for (let k = 0; k < n; k++) {
        const ts = new Date(day0 + d * 86_400_000 + Math.floor(r() * 86_400_000)).toISOString();
        const kind = r();
        if (kind < 0.3) events.push({ event: ev.clusterLogin, distinct_id: id, timestamp: ts, properties: { [p.connectorType]: pick(['local', 'github', 'saml', 'passwordless']), [p.clusterName]: 'c1' } });
        else if (kind < 0.6) events.push({ event: ev.protocolUse, distinct_id: id, timestamp: ts, properties: { [p.protocol]: pick(['ssh', 'db', 'kube', 'app']), [p.origin]: pick(['resource_table', 'search_bar', 'vnet']) } });
        else if (kind < 0.7) events.push({ event: ev.accessRequestCreate, distinct_id: id, timestamp: ts, properties: { [p.accessRequestKind]: pick(['role', 'resource']) } });
        else if (kind < 0.75) events.push({ event: ev.accessRequestReview, distinct_id: id, timestamp: ts });
        else if (kind < 0.8) events.push({ event: ev.accessRequestAssumeRole, distinct_id: id, timestamp: ts });
        else if (kind < 0.9) events.push({ event: ev.fileTransferRun, distinct_id: id, timestamp: ts, properties: { [p.fileTransferIsUpload]: r() < 0.5 } });
        else if (kind < 0.95) {
          const ok = r() < 0.6;
          events.push({ event: ev.connectMyComputerSetup, distinct_id: id, timestamp: ts, properties: { [p.setupSuccess]: ok, [p.setupFailedStep]: ok ? '' : pick(['downloading_agent', 'joining_cluster']) } });
        } else events.push({ event: ev.connectMyComputerAgentStart, distinct_id: id, timestamp: ts });
      }
    }
  }
  // noise that is not installation activity: website events, downloads, a non-Connect distinct id
  for (let d = 0; d < days; d++) {
    const ts = new Date(day0 + d * 86_400_000 + 3_600_000).toISOString();
    events.push({ event: '$pageview', distinct_id: 'website-visitor', timestamp: ts, properties: { $current_url: 'https://goteleport.com/download/' } });
    events.push({ event: t.downloads.event, distinct_id: `download-client-${d}`, timestamp: ts, properties: { [t.downloads.properties.platform]: 'darwin' } });
    events.push({ event: ev.clusterLogin, distinct_id: `not-an-installation-${d}`, timestamp: ts, properties: { [p.connectorType]: 'local' } });
  }
  events.sort((a, b) => a.timestamp.localeCompare(b.timestamp));
  return { events, persons, start, days };
}

export function isInstallationEvent(e: TestEvent): boolean {
  const t = taxonomy();
  return e.distinct_id.startsWith(t.connect.distinctIdPrefix) && Object.values(t.connect.events).includes(e.event);
}

/** Distinct installations per UTC day, counted straight from the events. */
export function installationsPerDay(events: TestEvent[], start: string, days: number): number[] {
  const sets = Array.from({ length: days }, () => new Set<string>());
  const day0 = Date.parse(`${start}T00:00:00Z`);
  for (const e of events) {
    if (!isInstallationEvent(e)) continue;
    const d = Math.floor((Date.parse(e.timestamp) - day0) / 86_400_000);
    if (d >= 0 && d < days) sets[d]!.add(e.distinct_id);
  }
  return sets.map((s) => s.size);
}
