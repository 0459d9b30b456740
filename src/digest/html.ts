/**
 * The digest as one self-contained HTML page: inline CSS and SVG, no script, no network asset.
 * It reads on screen and prints to PDF (print rules keep sections and tables whole).
 */
import type { Digest, Highlight } from './collect.js';
import { esc, svgBars, svgLineChart, svgSparkline } from './svg.js';
import { formatDuration, formatPercent, formatPoints } from '../output/format.js';

const points = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${formatPoints(x)} pts`);
const num = (x: number | null | undefined, digits = 0) => (x === null || x === undefined ? '–' : x.toLocaleString('en-US', { maximumFractionDigits: digits }));
const ICON: Record<Highlight['kind'], string> = { good: '▲', bad: '▼', neutral: '●' };

const CSS = `
:root{--fg:#1d2430;--muted:#5b6473;--line:#d8dde5;--accent:#3b6fd8;--good:#1f8a4c;--bad:#c2382b;--bg:#fff;--soft:#f3f5f9}
*{box-sizing:border-box}
body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:980px;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 8px;border-bottom:2px solid var(--line);padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}
.sub{color:var(--muted);margin:0 0 16px}
section{break-inside:avoid-page;page-break-inside:avoid}
table{border-collapse:collapse;width:100%;margin:6px 0 10px;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:middle}
th{font-size:12px;color:var(--muted);font-weight:600}
td.n,th.n{text-align:right}
tr.good td{background:#eaf6ef}tr.bad td{background:#fbecea}
.badge{display:inline-block;border-radius:9px;padding:0 7px;font-size:12px;font-weight:600}
.badge.good{background:var(--good);color:#fff}.badge.bad{background:var(--bad);color:#fff}.badge.neutral{background:var(--soft);color:var(--muted)}
ul.hl{list-style:none;padding:0;margin:0}ul.hl li{padding:6px 10px;margin:4px 0;border-left:4px solid var(--line);background:var(--soft)}
ul.hl li.good{border-color:var(--good)}ul.hl li.bad{border-color:var(--bad)}
ul.hl .i{font-weight:700;margin-right:6px}ul.hl li.good .i{color:var(--good)}ul.hl li.bad .i{color:var(--bad)}ul.hl li.neutral .i{color:var(--muted)}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}.card{flex:1 1 180px;border:1px solid var(--line);border-radius:6px;padding:8px 12px}
.card .v{font-size:22px;font-weight:700}.card .k{color:var(--muted);font-size:12px}
svg.chart{display:block;max-width:100%;font-size:11px;fill:var(--muted)}svg.chart text{fill:var(--fg)}svg .grid{stroke:var(--line)}
svg .prev{fill:#b9c3d3}svg.spark circle{fill:var(--accent)}
.note{color:var(--muted);font-size:12px}
@media print{body{padding:0;max-width:none;font-size:11pt}h2{break-after:avoid}tr,svg{break-inside:avoid}
tr.good td,tr.bad td,.badge,ul.hl li{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
`;

function card(k: string, v: string, sub = ''): string {
  return `<div class="card"><div class="k">${esc(k)}</div><div class="v">${esc(v)}</div>${sub ? `<div class="note">${esc(sub)}</div>` : ''}</div>`;
}

function verdictBadge(verdict: string): string {
  const tone = verdict === 'improved' ? 'good' : verdict === 'regressed' ? 'bad' : 'neutral';
  return `<span class="badge ${tone}">${esc(verdict)}</span>`;
}

function discover(d: Digest): string {
  const D = d.discover;
  const o = D.overall;
  const weeks = D.tracks[0]?.trend.map((t) => t.period) ?? [];
  const weekly = weeks.map((_, i) => {
    const s = D.tracks.reduce((a, t) => a + (t.trend[i]?.sessions ?? 0), 0);
    const c = D.tracks.reduce((a, t) => a + (t.trend[i]?.completed ?? 0), 0);
    return s > 0 ? (c / s) * 100 : null;
  });
  const rows = D.tracks
    .map((t) => {
      const tone = t.verdict === 'improved' ? 'good' : t.verdict === 'regressed' ? 'bad' : '';
      return (
        `<tr class="${tone}"><td>${esc(t.title)}</td><td class="n">${num(t.after.sessions)}</td><td class="n">${formatPercent(t.after.rate)}</td>` +
        `<td class="n">${t.before.sessions ? formatPercent(t.before.rate) : '–'}</td><td class="n">${t.before.sessions && t.after.sessions ? points(t.difference) : '–'}</td>` +
        `<td class="n">${formatDuration(t.after.medianSeconds)}</td><td>${svgSparkline(t.trend.map((w) => (w.sessions > 0 ? w.rate : null)), { title: `${t.title}: weekly completion`, max: 1 })}</td><td>${verdictBadge(t.verdict)}</td></tr>`
      );
    })
    .join('');
  const ttfr = D.timeToFirstResource;
  return `
<section><h2>Discover: adding resources (RFD 0094)</h2>
<div class="cards">
${card('Wizard sessions', num(o.current.sessions), `${num(o.previous.sessions)} in the previous period`)}
${card('Completed', formatPercent(o.current.rate), `${formatPercent(o.previous.rate)} before · ${o.test.significant ? `significant (p ${o.test.pValue !== null && o.test.pValue < 0.001 ? '< 0.001' : `= ${o.test.pValue?.toFixed(3)}`})` : 'no significant change'}`)}
${card('Time to first resource (median)', formatDuration(ttfr.median.current), `${formatDuration(ttfr.median.previous)} before · p90 ${formatDuration(ttfr.p90.current)}`)}
${card('Accounts that added a resource', `${num(ttfr.converted.current)} of ${num(ttfr.accounts.current)}`, `${num(ttfr.converted.previous)} of ${num(ttfr.accounts.previous)} before`)}
</div>
<h3>Conversion by resource track</h3>
<table><thead><tr><th>Track</th><th class="n">Sessions</th><th class="n">Completed</th><th class="n">Before</th><th class="n">Change</th><th class="n">Median time</th><th>Weekly trend</th><th>Verdict</th></tr></thead><tbody>${rows}</tbody></table>
<p class="note">Verdicts: a two-proportion test at the 5% level (Fisher's exact test for small counts) against the previous period. Time to first resource runs from ${esc(ttfr.from)} to the first completed wizard, per account.</p>
<h3>Completion per week, all tracks</h3>
${svgLineChart(weeks, [{ name: 'completion %', values: weekly, color: 'var(--accent)' }], { title: 'Discover completion per week', format: (v) => `${v.toFixed(0)}%` })}
<h3>Demand: wizard sessions per resource</h3>
${svgBars(D.tracks.map((t) => ({ label: t.title, value: t.after.sessions, previous: t.before.sessions, text: `${num(t.after.sessions)} (${num(t.before.sessions)} before)` })), { title: 'Wizard sessions per resource, this and the previous period' })}
<p class="note">Grey bars: the previous period.</p>
</section>
<section><h3>Slowest steps (median time from the previous step)</h3>
${svgBars(D.slowestSteps.map((s) => ({ label: `${s.resource}: ${s.name}`, value: s.medianSeconds ?? 0, text: `${formatDuration(s.medianSeconds)} · p90 ${formatDuration(s.p90Seconds)}` })), { title: 'Slowest wizard steps by median time' })}
</section>
<section><h3>Where sessions fail</h3>
${D.failingSteps.length ? svgBars(D.failingSteps.map((s) => ({ label: `${s.resource}: ${s.name}`, value: s.errors + s.aborted, text: `${num(s.errors)} errors · ${num(s.aborted)} aborted`, tone: 'bad' as const })), { title: 'Steps with the most errors and aborts' }) : '<p class="note">No step failed in this range.</p>'}
<h3>Why: the most common errors</h3>
<table><thead><tr><th>Error</th><th class="n">Errors</th><th class="n">Accounts</th><th class="n">Previous period</th></tr></thead><tbody>
${D.topErrors.map((e) => `<tr class="${e.isNew ? 'bad' : ''}"><td>${esc(e.message)}${e.isNew ? ' <span class="badge bad">new</span>' : ''}</td><td class="n">${num(e.errors)}</td><td class="n">${num(e.accounts)}</td><td class="n">${num(e.previousErrors)}</td></tr>`).join('') || '<tr><td colspan="4">No errors in this range.</td></tr>'}
</tbody></table></section>`;
}

function connect(d: Digest): string {
  const C = d.connect;
  const a = C.activeByDay;
  const adoptionRows = C.adoption
    .map((x) => `<tr><td>${esc(x.platform)}</td><td class="n">${num(x.downloads)}</td><td class="n">${num(x.newInstallations)}</td><td class="n">${x.ratio === null ? '–' : formatPercent(x.ratio)}</td><td class="n">${num(x.previousDownloads)}</td><td class="n">${num(x.previousNewInstallations)}</td></tr>`)
    .join('');
  const dl = C.adoption.reduce((s, x) => s + x.downloads, 0);
  const installs = C.adoption.reduce((s, x) => s + x.newInstallations, 0);
  return `
<section><h2>Teleport Connect (RFD 97)</h2>
<div class="cards">
${card('Active installations a day (average)', num(C.averageActive.current, 1), `${num(C.averageActive.previous, 1)} in the previous period`)}
${card('Active installations in the range', num(C.activeInRange.current), `${num(C.activeInRange.previous)} before`)}
${card('Installer downloads', num(dl), `${num(C.adoption.reduce((s, x) => s + x.previousDownloads, 0))} before`)}
${card('New installations', num(installs), dl > 0 ? `${formatPercent(installs / dl)} of downloads` : '')}
</div>
<h3>Daily active installations</h3>
${svgLineChart(a.days, [
    { name: 'this period', values: a.current, color: 'var(--accent)' },
    ...(a.previous.length ? [{ name: 'previous period', values: a.previous, color: '#8a94a6', dashed: true }] : []),
  ], { title: 'Teleport Connect daily active installations' })}
</section>
<section><h3>Features: share of active installations</h3>
${svgBars(C.features.map((f) => ({ label: f.title, value: f.share ?? 0, previous: f.previousShare, text: `${formatPercent(f.share)} (${formatPercent(f.previousShare)} before)` })), { title: 'Connect feature use', max: 1 })}
</section>
<section><h3>Platforms</h3>
${C.platforms.slice(0, 3).map((p) => `<h3>${esc(p.title)}</h3>${svgBars(p.values.map((v) => ({ label: v.label, value: v.share ?? 0, text: `${formatPercent(v.share)} · ${num(v.installations)}` })), { title: `Connect platforms: ${p.title}`, max: 1 })}`).join('')}
</section>
<section><h3>Downloads vs installations</h3>
<table><thead><tr><th>Platform</th><th class="n">Downloads</th><th class="n">New installations</th><th class="n">Installed per download</th><th class="n">Downloads before</th><th class="n">Installations before</th></tr></thead><tbody>${adoptionRows || '<tr><td colspan="6">No downloads or installations in this range.</td></tr>'}</tbody></table>
</section>`;
}

export function renderDigestHtml(d: Digest, generatedAt: string): string {
  const title = `Discover & Connect digest — ${d.range.from} to ${d.range.to}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body>
<h1>${esc(title)}</h1>
<p class="sub">Compared with ${esc(d.previous.from)} to ${esc(d.previous.to)} · engine ${esc(d.engine)} · timezone ${esc(d.timezone)} · generated ${esc(generatedAt)}</p>
<section><h2>What changed</h2><ul class="hl">${d.highlights.map((h) => `<li class="${h.kind}"><span class="i">${ICON[h.kind]}</span>${esc(h.text)}</li>`).join('')}</ul></section>
${discover(d)}
${connect(d)}
</body></html>
`;
}
