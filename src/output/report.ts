/**
 * What a command hands to the output layer, and the one map from a format name to its renderer.
 * A command builds its data once (JSON payload, tables, an optional chart); which parts a format
 * shows is decided here and nowhere else.
 */
import type { ReportRange } from '../time/index.js';
import { withRangeColumns, withRangeFooter, withRangeJson } from './range.js';
import { renderCsv, renderJson, renderMarkdown, renderTable, type TableSpec } from './table.js';

export const FORMATS = ['table', 'json', 'csv', 'markdown'] as const;
export type OutputFormat = (typeof FORMATS)[number];

export interface Report {
  /** The whole result, as `--format json` prints it. */
  json: unknown;
  /** Tables in order (terminal, Markdown, and CSV unless `csv` is given). */
  tables: TableSpec<any>[];
  /** Long-form tables for CSV when they differ from `tables` (one row per value, every row kept). */
  csv?: TableSpec<any>[];
  /** A whole document (the digest, in Markdown) that table and Markdown output print instead of tables. */
  document?: () => string;
  /** Terminal-only text after the tables (a line chart); built only when it is shown. */
  chart?: () => string | undefined;
  /** Set when there is nothing to tabulate: people read this line instead of empty tables. */
  empty?: string;
  /** A next step for people (not for scripts): on stderr after table or Markdown output. */
  tip?: string;
  /** The range the report covers: a footer in tables, resolved dates in JSON and CSV (output/range.ts). */
  range?: ReportRange;
  /**
   * The tables summarise what the command did (files written, events sent) rather than answer a
   * question: --quiet leaves them out of table and Markdown output (JSON and CSV still print).
   */
  status?: boolean;
  /** The check this report shows failed: thrown (exit code and message) once the report is printed. */
  failure?: Error;
}

/** `--print-query`: the PostHog queries a report would send, printed as JSON in every format. */
export interface QueryPrint {
  queries: readonly unknown[];
  /** What else is sent that is not shown (stderr). */
  note?: string;
  /** `--print-insight`: PostHog's UI form, and the project's URL for a link per query (stderr). */
  ui?: { projectUrl?: string };
}

export type CommandResult = Report | QueryPrint | void;

export interface Rendered {
  stdout: string;
  /** A message for stderr (an empty CSV result says why here). */
  stderr?: string;
  /** A tip for people, on stderr unless --quiet. */
  tip?: string;
}

type Renderer = (r: Report) => Rendered;

const joinTables = (tables: TableSpec<any>[], render: (t: TableSpec<any>) => string) => tables.map(render).join('\n');

const RAW_RENDERERS: Record<OutputFormat, Renderer> = {
  json: (r) => ({ stdout: renderJson(r.json) }),
  // CSV stdout stays machine-readable: an empty result says so on stderr only.
  csv: (r) => (r.empty !== undefined ? { stdout: '', stderr: r.empty + '\n' } : { stdout: joinTables(r.csv ?? r.tables, renderCsv) }),
  markdown: (r) => (r.empty !== undefined ? { stdout: r.empty + '\n' } : { stdout: r.document ? r.document() : joinTables(r.tables, renderMarkdown), tip: r.tip }),
  table: (r) => {
    if (r.empty !== undefined) return { stdout: r.empty + '\n' };
    if (r.document) return { stdout: r.document(), tip: r.tip };
    const chart = r.chart?.();
    return { stdout: joinTables(r.tables, renderTable) + (chart ? '\n' + chart : ''), tip: r.tip };
  },
};

/** Every format states the report's range, from this one place. */
function withRange(r: Report): Report {
  if (!r.range) return r;
  return { ...r, json: withRangeJson(r.json, r.range), tables: withRangeFooter(r.tables, r.range), csv: withRangeColumns(r.csv ?? r.tables, r.range) };
}

export const RENDERERS = Object.fromEntries(Object.entries(RAW_RENDERERS).map(([k, render]) => [k, (r: Report) => render(withRange(r))])) as Record<OutputFormat, Renderer>;

/**
 * --print-query: every query a report sends, as the body PostHog's query API takes
 * (`{"query": …}`), one as an object, several as a list (`query run` reads either back).
 */
export function renderQueries(queries: readonly unknown[]): string {
  const bodies = queries.map((query) => ({ query }));
  return renderJson(bodies.length === 1 ? bodies[0] : bodies);
}

const INSIGHT_KINDS = new Set(['TrendsQuery', 'FunnelsQuery', 'RetentionQuery', 'LifecycleQuery', 'StickinessQuery', 'PathsQuery']);

/** A query as PostHog's UI holds it: insights in an InsightVizNode, SQL in a DataVisualizationNode. */
export function uiNode(query: unknown): unknown {
  const kind = (query as { kind?: unknown } | null)?.kind;
  if (typeof kind === 'string' && INSIGHT_KINDS.has(kind)) return { kind: 'InsightVizNode', source: query };
  if (kind === 'HogQLQuery') return { kind: 'DataVisualizationNode', source: query };
  return query;
}

/** `--print-insight`: the UI nodes (one as an object, several as a list), and a new-insight link per query. */
export function renderUiQueries(queries: readonly unknown[], projectUrl?: string): { stdout: string; links: string[] } {
  const nodes = queries.map(uiNode);
  const links = projectUrl ? nodes.map((n) => `${projectUrl}/insights/new#q=${encodeURIComponent(JSON.stringify(n))}`) : [];
  return { stdout: renderJson(nodes.length === 1 ? nodes[0] : nodes), links };
}

export function isQueryPrint(r: CommandResult): r is QueryPrint {
  return !!r && 'queries' in r;
}
