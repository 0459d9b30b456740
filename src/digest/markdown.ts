/** The digest as GitHub-flavoured markdown, for a wiki page or a pull request. */
import type { Digest, Highlight } from './collect.js';
import { formatDuration, formatPercent, formatPoints } from '../output/format.js';

const cell = (s: unknown) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const num = (x: number | null | undefined, digits = 0) => (x === null || x === undefined ? '–' : x.toLocaleString('en-US', { maximumFractionDigits: digits }));
const points = (x: number) => `${formatPoints(x)} pts`;
const ICON: Record<Highlight['kind'], string> = { good: '🟢', bad: '🔴', neutral: '⚪' };
const SPARK = '▁▂▃▄▅▆▇█';

function spark(values: (number | null)[]): string {
  return values.map((v) => (v === null ? ' ' : SPARK[Math.min(7, Math.max(0, Math.round(v * 7)))])).join('');
}

function table(head: string[], rows: unknown[][], right: number[] = []): string {
  const sep = head.map((_, i) => (right.includes(i) ? '---:' : '---'));
  return [head, sep, ...rows].map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n') + '\n';
}

export function renderDigestMarkdown(d: Digest, generatedAt: string): string {
  const D = d.discover;
  const C = d.connect;
  const o = D.overall;
  const ttfr = D.timeToFirstResource;
  const out: string[] = [];
  out.push(`# Discover & Connect digest — ${d.range.from} to ${d.range.to}\n`);
  out.push(`Compared with ${d.previous.from} to ${d.previous.to} · engine ${d.engine} · timezone ${d.timezone} · generated ${generatedAt}\n`);
  out.push('## What changed\n');
  out.push(d.highlights.map((h) => `- ${ICON[h.kind]} ${h.text}`).join('\n') + '\n');
  out.push('## Discover: adding resources (RFD 0094)\n');
  out.push(
    `- Wizard sessions: **${num(o.current.sessions)}** (${num(o.previous.sessions)} before); completed **${formatPercent(o.current.rate)}** (${formatPercent(o.previous.rate)} before, ${o.test.significant ? 'significant' : 'no significant change'}).\n` +
      `- Time to first resource (${ttfr.from} → first completed wizard, per account): median **${formatDuration(ttfr.median.current)}** (${formatDuration(ttfr.median.previous)} before), p90 ${formatDuration(ttfr.p90.current)}; ${num(ttfr.converted.current)} of ${num(ttfr.accounts.current)} accounts added a resource.\n`,
  );
  out.push('### Conversion by resource track\n');
  out.push(
    table(
      ['Track', 'Sessions', 'Completed', 'Before', 'Change', 'Median time', 'Weekly trend', 'Verdict'],
      D.tracks.map((t) => [
        t.title,
        num(t.after.sessions),
        formatPercent(t.after.rate),
        t.before.sessions ? formatPercent(t.before.rate) : '–',
        t.before.sessions && t.after.sessions ? points(t.difference) : '–',
        formatDuration(t.after.medianSeconds),
        `\`${spark(t.trend.map((w) => (w.sessions > 0 ? w.rate : null)))}\``,
        t.verdict === 'no detectable change' ? t.verdict : `**${t.verdict}**`,
      ]),
      [1, 2, 3, 4, 5],
    ),
  );
  out.push('### Slowest steps\n');
  out.push(table(['Track', 'Step', 'Sessions', 'Median', 'p90'], D.slowestSteps.map((s) => [s.resource, s.name, num(s.sessions), formatDuration(s.medianSeconds), formatDuration(s.p90Seconds)]), [2, 3, 4]));
  out.push('### Where sessions fail\n');
  out.push(table(['Track', 'Step', 'Errors', 'Aborted'], D.failingSteps.map((s) => [s.resource, s.name, num(s.errors), num(s.aborted)]), [2, 3]));
  out.push('### The most common errors\n');
  out.push(table(['Error', 'Errors', 'Accounts', 'Previous period'], D.topErrors.map((e) => [`${e.message}${e.isNew ? ' **(new)**' : ''}`, num(e.errors), num(e.accounts), num(e.previousErrors)]), [1, 2, 3]));
  out.push('## Teleport Connect (RFD 97)\n');
  out.push(
    `- Active installations a day: **${num(C.averageActive.current, 1)}** on average (${num(C.averageActive.previous, 1)} before); ${num(C.activeInRange.current)} active in the range.\n`,
  );
  out.push('### Features\n');
  out.push(table(['Feature', 'Installations', 'Share', 'Share before'], C.features.map((f) => [f.title, num(f.installations), formatPercent(f.share), formatPercent(f.previousShare)]), [1, 2, 3]));
  out.push('### Platforms\n');
  for (const p of C.platforms.slice(0, 3)) {
    out.push(`**${p.title}**: ` + p.values.map((v) => `${v.label} ${formatPercent(v.share)}`).join(' · ') + '\n');
  }
  out.push('### Downloads vs installations\n');
  out.push(
    table(
      ['Platform', 'Downloads', 'New installations', 'Installed per download', 'Downloads before'],
      C.adoption.map((x) => [x.platform, num(x.downloads), num(x.newInstallations), x.ratio === null ? '–' : formatPercent(x.ratio), num(x.previousDownloads)]),
      [1, 2, 3, 4],
    ),
  );
  return out.join('\n');
}
