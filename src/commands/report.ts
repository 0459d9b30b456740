/**
 * `report [--out digest.html]`: one page answering every RFD 0094 and RFD 97 question for a range,
 * with what changed since the previous period.
 */
import { accessSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import { writeWhole } from '../write-whole.js';
import type { TrackFunnelOptions } from '../definitions/discover.js';
import { collectDigest } from '../digest/collect.js';
import { renderDigestHtml } from '../digest/html.js';
import { renderDigestMarkdown } from '../digest/markdown.js';
import type { DateRange } from '../query/schema.js';
import type { CommandResult } from '../output/report.js';
import { renderJson } from '../output/table.js';
import { cannotWrite } from '../errors.js';
import { withEngine, type CommandContext, type QueryOptions } from './context.js';
import { recordingEngine } from '../engines/recording.js';
import type { PostHogQuery } from '../engines/types.js';

export interface ReportOptions {
  dateRange: DateRange;
  shape: Omit<TrackFunnelOptions, 'dateRange'>;
  /** Write the digest to this file instead of stdout. */
  out?: string;
  /** What the file holds (stdout: JSON with --format json, otherwise markdown). */
  as: 'html' | 'markdown' | 'json';
  query: QueryOptions;
}


/** The digest whole or not at all (a failure leaves nothing half-written). */
function writeDigest(path: string, text: string): void {
  try {
    writeWhole(path, text);
  } catch (e) {
    throw cannotWrite('--out', path, e);
  }
}

export async function reportCommand(o: ReportOptions, c: CommandContext): Promise<CommandResult> {
  const { out } = o;
  if (o.query.printQuery) {
    // which queries follow depends on earlier answers (the tracks with sessions, the steps
    // reached): record them while the digest is computed on the local store
    const sent: PostHogQuery[] = [];
    await withEngine({ ...o.query, engine: 'local' }, c, (engine) => collectDigest(recordingEngine(engine, sent), { dateRange: o.dateRange, shape: o.shape }, o.query.ctx));
    return {
      queries: sent,
      note: `${sent.length} queries, one request each, recorded while the digest was computed on the local store: PostHog is sent the same ones for the same events (its limit: 240 requests a minute, 1,200 an hour).`,
    };
  }
  if (out) {
    // fail before the queries run, not after
    try {
      accessSync(dirname(out) || '.', constants.W_OK);
    } catch (e) {
      throw cannotWrite('--out', out, e);
    }
  }
  const digest = await withEngine(o.query, c, (engine) => collectDigest(engine, { dateRange: o.dateRange, shape: o.shape }, o.query.ctx));
  const generatedAt = o.query.ctx.now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (!out) return { json: digest, tables: [], document: () => renderDigestMarkdown(digest, generatedAt) };
  if (o.as === 'json') {
    writeDigest(out, renderJson(digest));
    return;
  }
  writeDigest(out, o.as === 'markdown' ? renderDigestMarkdown(digest, generatedAt) : renderDigestHtml(digest, generatedAt));
  c.out.info(`Wrote ${out} (${o.as === 'markdown' ? 'markdown' : 'HTML'}, ${digest.range.from} to ${digest.range.to} vs ${digest.previous.from} to ${digest.previous.to}).`);
}
