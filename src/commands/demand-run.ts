/** The `demand` action: parse → run → render. */
import type { Command } from 'commander';
import { globalsOf } from '../cli/globals.js';
import { openEngine, queryOptionsOf } from '../cli/query-options.js';
import { checkRelativeOrder, dateRangeFromOptions, parseWindow } from '../cli/range-options.js';
import { DEFAULT_FROM } from './discover-options.js';
import type { Deployment } from '../definitions/discover.js';
import { demand, demandQueries, type DemandRow } from '../discover/demand.js';
import { emit, printQueries } from '../output/emit.js';
import { bar } from '../output/chart.js';
import { formatPercent } from '../output/duration.js';

export async function demandCommand(command: Command): Promise<void> {
  const o = command.opts() as Record<string, string>;
  const g = globalsOf(command);
  const q = queryOptionsOf(command);
  const dateRange = dateRangeFromOptions(o.from, o.to, DEFAULT_FROM);
  checkRelativeOrder(dateRange, q.ctx.now);
  const opts = { dateRange, deployment: o.deployment as Deployment, window: parseWindow(String(o.window ?? '1d')) };
  if (q.printQuery) {
    printQueries(demandQueries(opts));
    return;
  }
  const engine = await openEngine(command, q);
  try {
    const r = await demand(engine, opts, q.ctx);
    const max = Math.max(0, ...r.resources.map((x) => x.selections));
    const n = (x: number) => x.toLocaleString('en-US');
    emit(g, {
      json: { engine: q.engine, dateRange, deployment: opts.deployment, ...r, queries: undefined },
      table: {
        title: 'Discover demand — wizard sessions selecting each resource card, most first',
        columns: [
          { key: 'resource', header: 'Resource', text: (x: DemandRow) => x.resource.replace(/^DISCOVER_RESOURCE_/, '') },
          { key: 'kind', header: 'Card' },
          { key: 'track', header: 'Funnel', text: (x: DemandRow) => x.track ?? '' },
          { key: 'cards', header: 'Cards', dataOnly: true, text: (x: DemandRow) => x.cards.join('; ') },
          { key: 'selections', header: 'Sessions', align: 'right' },
          { key: 'accounts', header: 'Accounts', align: 'right' },
          { key: 'share', header: 'Share', align: 'right', text: (x: DemandRow) => formatPercent(x.share) },
          { key: 'bar', header: '', terminalOnly: true, text: (x: DemandRow) => bar(x.selections, max, 24) },
        ],
        rows: r.resources,
        notes: [
          `${n(r.sessionsStarted)} wizard sessions started; ${n(r.startedWithoutSelection)} of them never chose a resource.`,
          `${n(r.selections)} selections, ${n(r.selectionOnlySelections)} of them on selection-only cards (dialog or documentation link: demand, not conversion).`,
          'Guided cards lead into a wizard whose conversion is in discover-metrics funnel; not-sent values have no card in the current UI.',
        ],
      },
    });
  } finally {
    await engine.close();
  }
}
