/** Tables and a chart for the adoption report (logic in index.ts returns the data). */
import { lineChart } from '../output/chart.js';
import type { TableSpec } from '../output/table.js';
import { formatPercent } from '../output/format.js';
import type { AdoptionReport, AdoptionRow } from './index.js';

const ratioValue = (r: number | null) => (r === null ? null : Number(r.toFixed(4)));

export function adoptionTable(r: AdoptionReport): TableSpec<AdoptionRow> {
  const word = r.interval === 'day' ? 'Day' : r.interval === 'week' ? 'Week' : 'Month';
  const range = r.resolvedDateRange ? ` ${r.resolvedDateRange.date_from.slice(0, 10)} to ${r.resolvedDateRange.date_to.slice(0, 10)}` : '';
  return {
    title: `Teleport Connect adoption by ${r.interval}${range}${r.timezone !== 'UTC' ? ` (${r.timezone})` : ''}`,
    columns: [
      { key: 'period', header: word, text: (x) => `${x.period}${x.incomplete ? ' *' : ''}` },
      { key: 'platform', header: 'Platform' },
      { key: 'downloads', header: 'Downloads', align: 'right' },
      { key: 'newInstallations', header: 'New installations', align: 'right' },
      { key: 'ratio', header: 'New / downloads', align: 'right', text: (x) => formatPercent(x.ratio), value: (x) => ratioValue(x.ratio) },
      { key: 'activeInstallations', header: 'Active installations', align: 'right' },
      { key: 'updates', header: 'Updater fetches', align: 'right' },
    ],
    rows: r.rows,
    notes: [
      `downloads: fresh installer downloads from ${r.downloadsSource === 'logs' ? 'the given CloudFront logs' : 'download events in the store'}; new installations: first Connect event in the period; active: any Connect event in the period`,
      'platforms: macos = darwin, windows = win32, linux = linux (Connect reports Electron platform names)',
      ...(r.rows.some((x) => x.incomplete) ? [`* the ${r.interval} is not over yet: its counts can still grow.`] : []),
    ],
  };
}

type TotalRow = AdoptionReport['totals'][number];

export function totalsTable(r: AdoptionReport): TableSpec<TotalRow> {
  return {
    title: 'Whole range by platform',
    columns: [
      { key: 'platform', header: 'Platform' },
      { key: 'downloads', header: 'Downloads', align: 'right' },
      { key: 'newInstallations', header: 'New installations', align: 'right' },
      { key: 'ratio', header: 'New / downloads', align: 'right', text: (x) => formatPercent(x.ratio), value: (x) => ratioValue(x.ratio) },
      { key: 'peakActiveInstallations', header: `Peak active per ${r.interval}`, align: 'right' },
      { key: 'updates', header: 'Updater fetches', align: 'right' },
    ],
    rows: r.totals,
  };
}

/** Downloads, new and active installations per period (all platforms), for 4+ periods. */
export function adoptionChart(r: AdoptionReport): string {
  // A line needs a few points to say anything; short ranges get the tables only.
  if (r.periods.length < 4) return '';
  const per = (f: (x: AdoptionRow) => number) => r.periods.map((p) => r.rows.filter((x) => x.period === p).reduce((a, x) => a + f(x), 0));
  return lineChart(r.periods, [
    { name: 'downloads', values: per((x) => x.downloads) },
    { name: 'new installations', values: per((x) => x.newInstallations) },
    { name: 'active installations', values: per((x) => x.activeInstallations) },
  ]);
}
