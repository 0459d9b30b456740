/** The `report` action: collect the digest, then write HTML or markdown (or print JSON). */
import type { Command } from 'commander';
import { accessSync, constants, renameSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { globalsOf } from '../cli/globals.js';
import { openEngine, queryOptionsOf } from '../cli/query-options.js';
import { funnelOptionsFrom } from './discover-options.js';
import { collectDigest } from '../digest/collect.js';
import { renderDigestHtml } from '../digest/html.js';
import { renderDigestMarkdown } from '../digest/markdown.js';
import { info } from '../output/emit.js';
import { renderJson } from '../output/table.js';
import { UsageError } from '../errors.js';

/** Write through a temporary file in the same folder, so a failure leaves nothing half-written. */
function writeWhole(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new UsageError(`--out: cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export async function reportCommand(command: Command): Promise<void> {
  const o = command.opts() as Record<string, string | undefined>;
  const g = globalsOf(command);
  const q = queryOptionsOf(command);
  const opts = funnelOptionsFrom(o, q.ctx);
  if (opts.dateRange.date_from === 'all') throw new UsageError('--from: the digest compares a range with the one before it; give a date or a relative range, not all');
  const out = o.out;
  if (out !== undefined && out.trim() === '') throw new UsageError('--out: give a file name');
  if (out) {
    // fail before the queries run, not after
    try {
      accessSync(dirname(out) || '.', constants.W_OK);
    } catch (e) {
      throw new UsageError(`--out: cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  if (g.format === 'csv') throw new UsageError('--format: the digest is html (with --out), markdown or json, not csv');
  const engine = await openEngine(command, q);
  try {
    const { dateRange, ...shape } = opts;
    const digest = await collectDigest(engine, { dateRange, shape }, q.ctx);
    const generatedAt = q.ctx.now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    if (g.format === 'json') {
      const text = renderJson(digest);
      if (out) writeWhole(out, text);
      else process.stdout.write(text);
      return;
    }
    const markdown = g.format === 'markdown' || (out !== undefined && /\.(md|markdown)$/i.test(out)) || out === undefined;
    const text = markdown ? renderDigestMarkdown(digest, generatedAt) : renderDigestHtml(digest, generatedAt);
    if (out) {
      writeWhole(out, text);
      info(g, `Wrote ${out} (${markdown ? 'markdown' : 'HTML'}, ${digest.range.from} to ${digest.range.to} vs ${digest.previous.from} to ${digest.previous.to}).`);
    } else process.stdout.write(text);
  } finally {
    await engine.close();
  }
}
