/** The one place numbers, durations and shares are turned into text for people. */
import type { WindowUnit } from '../engines/types.js';

/** Human durations, two units at most, a zero second unit left out: 42s, 3m 35s, 5m, 1h 3m, 2d 4h, 1d; '–' when there is none. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.round(seconds);
  const two = (big: number, bigUnit: string, small: number, smallUnit: string) => `${big}${bigUnit}${small ? ` ${small}${smallUnit}` : ''}`;
  if (s < 60) return `${s}s`;
  if (s < 3600) return two(Math.floor(s / 60), 'm', s % 60, 's');
  if (s < 86400) return two(Math.floor(s / 3600), 'h', Math.floor((s % 3600) / 60), 'm');
  return two(Math.floor(s / 86400), 'd', Math.floor((s % 86400) / 3600), 'h');
}

/** A share 0..1 as a percentage, always one decimal (0.123 -> 12.3%); '–' when there is none. */
export function formatPercent(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return `${(x * 100).toFixed(1)}%`;
}

/** A difference of two shares in percentage points, signed (0.057 -> +5.7, -0.039 -> −3.9); '–' when there is none. */
export function formatPoints(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}`;
}

/** An axis label: integers as they are, then 1.2k, 45k, 1.3M; fractions with one decimal. */
export function formatCompact(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  if (a >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

/** Counts with thousands separators; fractions with at most two decimals. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  return n.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

/** A number with a fixed count of decimals and thousands separators (averages: 113.0, 270.4). */
export function formatDecimal(n: number, digits = 1): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A funnel conversion window: "1 day", "14 days". */
export function formatWindow(w: { funnelWindowInterval: number; funnelWindowIntervalUnit: WindowUnit }): string {
  return `${w.funnelWindowInterval} ${w.funnelWindowIntervalUnit}${w.funnelWindowInterval === 1 ? '' : 's'}`;
}

/** A number as data (CSV): fractions rounded to 4 decimals, so float noise (60.846499999) never shows. */
export function roundForData(v: unknown): unknown {
  if (typeof v !== 'number' || Number.isInteger(v) || !Number.isFinite(v)) return v;
  return Number(v.toFixed(4));
}

/** PostHog's breakdown buckets for "no value" and "beyond the breakdown limit". */
const NULL_BUCKET = '$$_posthog_breakdown_null_$$';
const OTHER_BUCKET = '$$_posthog_breakdown_other_$$';

/** A breakdown value as PostHog's UI labels it: None for its null bucket, Other for the rest, parts of a multiple breakdown joined. */
export function breakdownText(value: unknown): string {
  if (Array.isArray(value)) return value.map(breakdownText).join(' / ');
  if (value === null || value === undefined || value === '' || value === NULL_BUCKET) return 'None';
  if (value === OTHER_BUCKET) return 'Other';
  return String(value);
}
