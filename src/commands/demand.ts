/** `demand`: what users look for — selections per resource card, and sessions that never chose. */
import type { Deployment } from '../definitions/discover.js';
import { demand, demandQueries, type DemandRow } from '../discover/demand.js';
import type { DateRange } from '../query/schema.js';
import type { WindowUnit } from '../engines/types.js';
import type { CommandResult } from '../output/report.js';
import { bar } from '../output/chart.js';
import { formatPercent } from '../output/format.js';
import { withEngineRange, type CommandContext, type QueryOptions } from './context.js';

export interface DemandOptions {
  dateRange: DateRange;
  deployment: Deployment;
  window: { funnelWindowInterval: number; funnelWindowIntervalUnit: WindowUnit };
  query: QueryOptions;
}

export async function demandCommand(o: DemandOptions, c: CommandContext): Promise<CommandResult> {
  const opts = { dateRange: o.dateRange, deployment: o.deployment, window: o.window };
  if (o.query.printQuery) return { queries: demandQueries(opts) };
  const { result: r, range } = await withEngineRange(o.query, c, o.dateRange, (engine, dateRange) => demand(engine, { ...opts, dateRange }, o.query.ctx));
  const max = Math.max(0, ...r.resources.map((x) => x.selections));
  const n = (x: number) => x.toLocaleString('en-US');
  return {
    range,
    json: { engine: o.query.engine, dateRange: o.dateRange, deployment: o.deployment, ...r, queries: undefined },
    tables: [
      {
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
    ],
  };
}
