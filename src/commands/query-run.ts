/** `query run FILE...`: read and validate every file first, then run them together, then summarize. */
import { UsageError } from '../errors.js';
import type { CommandResult } from '../output/report.js';
import type { PostHogQuery } from '../engines/types.js';
import { readQueryFile } from '../query/input.js';
import { summarize } from '../query/render.js';
import { withEngine, type CommandContext, type QueryOptions } from './context.js';

export interface QueryRunOptions {
  files: string[];
  query: QueryOptions;
}

export async function queryRunCommand(o: QueryRunOptions, c: CommandContext): Promise<CommandResult> {
  if (o.files.filter((f) => f === '-').length > 1) throw new UsageError('query run: stdin (-) can be given only once');
  // validate everything before opening the engine: bad input never half-runs
  const queries: PostHogQuery[] = [];
  for (const f of o.files) queries.push(...(await readQueryFile(f)));
  if (o.query.printQuery) return { queries };
  // raw queries answer PostHog's empty results on an empty store, as PostHog would
  const responses = await withEngine(o.query, c, (engine) => engine.runMany(queries, o.query.ctx), { requireEvents: false });
  return {
    // PostHog's response as is: one object for one file, an array for several
    json: responses.length === 1 ? responses[0] : responses,
    tables: responses.flatMap((res, i) => summarize(queries[i]!, res)),
  };
}
