/** Action behind `query run`: read + validate every file first, then run, then render. */
import type { Command } from 'commander';
import { globalsOf } from '../cli/globals.js';
import { openEngine, queryOptionsOf } from '../cli/query-options.js';
import { UsageError } from '../errors.js';
import { emit, printQueries } from '../output/emit.js';
import { renderJson } from '../output/table.js';
import type { PostHogQuery, QueryResponse } from '../engines/types.js';
import { readQueryFile } from './input.js';
import { summarize } from './render.js';

export async function queryRunCommand(files: string[], cmd: Command): Promise<void> {
  const g = globalsOf(cmd);
  const q = queryOptionsOf(cmd);
  if (files.filter((f) => f === '-').length > 1) throw new UsageError('query run: stdin (-) can be given only once');
  // validate everything before opening the engine: bad input never half-runs
  const queries: PostHogQuery[] = [];
  for (const f of files) queries.push(...(await readQueryFile(f)));
  if (q.printQuery) {
    printQueries(queries);
    return;
  }
  const engine = await openEngine(cmd, q);
  let responses: QueryResponse[];
  try {
    responses = await engine.runMany(queries, q.ctx);
  } finally {
    await engine.close();
  }
  if (g.format === 'json') {
    process.stdout.write(renderJson(responses.length === 1 ? responses[0] : responses));
    return;
  }
  responses.forEach((res, i) => {
    if (i > 0) process.stdout.write('\n');
    const table = summarize(queries[i]!, res);
    emit(g, { json: res, table });
  });
}
