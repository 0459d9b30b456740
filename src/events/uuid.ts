/**
 * The one derivation of a uuid for an event that has none, used by `load` (in SQL, its twin in
 * src/store/load/sql.ts) and by `replay`: the same event gets the same uuid either way, so a file
 * loaded locally and replayed into PostHog keeps one identity per event, and re-sending or
 * re-loading it is idempotent. UUID v5 layout over SHA-1 of the event's content.
 */
import { createHash } from 'node:crypto';

/** Name prefix and field separator of the hashed content (the SQL twin uses the same). */
export const UUID_NAME_PREFIX = 'discover-metrics/event';
export const UUID_FIELD_SEPARATOR = '\x1f';

/**
 * The uuid of an event from its name, distinct id, timestamp in microseconds since the epoch, and
 * properties as minified JSON text ('{}' when it has none).
 */
export function deriveEventUuid(event: string, distinctId: string, timestampUs: bigint | number, minifiedPropertiesJson: string): string {
  const name = [UUID_NAME_PREFIX, event, distinctId, String(timestampUs), minifiedPropertiesJson].join(UUID_FIELD_SEPARATOR);
  return uuidFromHex(createHash('sha1').update(name, 'utf8').digest('hex'), '5');
}

/** RFC 4122 layout of a hex digest: the version nibble, and the variant bits 10xx. */
export function uuidFromHex(h: string, version: string): string {
  const variant = '89ab'[parseInt(h[16]!, 16) & 3];
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${version}${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const ISO = /^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d)?)(?:\.(\d+))?(Z|[+-]\d\d(?::?\d\d)?)?$/i;

/**
 * Microseconds since the epoch of an ISO 8601 timestamp, as the store reads it: sub-millisecond
 * digits kept (JavaScript dates stop at milliseconds), no zone meaning UTC. undefined if unreadable.
 */
export function timestampMicros(ts: string): bigint | undefined {
  const m = ISO.exec(ts.trim());
  if (!m) {
    const ms = Date.parse(ts);
    return Number.isNaN(ms) ? undefined : BigInt(ms) * 1000n;
  }
  const zone = m[3] ? (m[3].toUpperCase() === 'Z' ? 'Z' : m[3].length === 3 ? `${m[3]}:00` : m[3].includes(':') ? m[3] : `${m[3].slice(0, 3)}:${m[3].slice(3)}`) : 'Z';
  const ms = Date.parse(`${m[1]!.replace(' ', 'T')}${zone}`);
  if (Number.isNaN(ms)) return undefined;
  const frac = (m[2] ?? '').slice(0, 6).padEnd(6, '0');
  return BigInt(ms) * 1000n + BigInt(frac);
}

/** The uuid `load` gives this event when it has none (properties minified as JSON.stringify writes them). */
export function eventUuidFor(ev: { event: string; distinct_id: string; timestamp: string; properties?: Record<string, unknown> | null }): string {
  const us = timestampMicros(ev.timestamp);
  if (us === undefined) throw new RangeError(`timestamp '${ev.timestamp}' is not an ISO 8601 date-time`);
  return deriveEventUuid(ev.event, ev.distinct_id, us, JSON.stringify(ev.properties ?? {}));
}
