/**
 * Writing a command's result in the chosen format. Commands build the data once and hand
 * over a JSON payload plus a table spec (and optional extra terminal text such as charts).
 */
import type { GlobalOptions } from '../cli/globals.js';
import { renderCsv, renderJson, renderMarkdown, renderTable, type TableSpec } from './table.js';
import { c } from './color.js';

export interface Emittable<R> {
  json: unknown;
  table: TableSpec<R>;
  /** Extra text printed after the table on a terminal (charts); skipped in csv/json. */
  extra?: string;
  /** Extra tables (e.g. a breakdown); rendered after the main one. */
  more?: TableSpec<any>[];
}

export function emit<R>(g: GlobalOptions, out: Emittable<R>, write: (s: string) => void = (s) => void process.stdout.write(s)): void {
  switch (g.format) {
    case 'json':
      write(renderJson(out.json));
      return;
    case 'csv':
      write(renderCsv(out.table));
      for (const t of out.more ?? []) write('\n' + renderCsv(t));
      return;
    case 'markdown':
      write(renderMarkdown(out.table));
      for (const t of out.more ?? []) write('\n' + renderMarkdown(t));
      return;
    default:
      write(renderTable(out.table));
      for (const t of out.more ?? []) write('\n' + renderTable(t));
      if (out.extra) write('\n' + out.extra);
  }
}

/** Warnings go to stderr (never mixed into json/csv on stdout); --quiet silences them. */
export function warn(g: GlobalOptions, message: string): void {
  if (!g.quiet) process.stderr.write(c().yellow(`warning: ${message}`) + '\n');
}

export function info(g: GlobalOptions, message: string): void {
  if (!g.quiet) process.stderr.write(c().dim(message) + '\n');
}

/**
 * --print-query: every query a report sends, as the body PostHog's query API takes
 * (`{"query": …}`), one as an object, several as a list (`query run` reads either back).
 */
export function printQueries(queries: readonly unknown[], write: (s: string) => void = (s) => void process.stdout.write(s)): void {
  const bodies = queries.map((query) => ({ query }));
  write(renderJson(bodies.length === 1 ? bodies[0] : bodies));
}
