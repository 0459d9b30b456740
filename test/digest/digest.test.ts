/**
 * The digest on generated demo-like data: rendered in a real headless Chromium (Debian's, no
 * browser download), it loads nothing from the network, logs no console error, every chart has
 * drawn marks, the screenshot is not blank and the print layout fits the page. Its numbers
 * agree with the single commands, and the markdown carries the same answers.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { json, run, tmpDir } from '../commands/cli.js';
import { loadTracks } from '../../src/definitions/discover.js';

// page.evaluate callbacks run in the browser; the tests are type-checked without the DOM library
interface Box {
  width: number;
  height: number;
}
interface SvgElement {
  tagName: string;
  getAttribute(name: string): string | null;
  getBBox(): Box;
  getBoundingClientRect(): Box;
  querySelectorAll(selector: string): Iterable<SvgElement>;
}
declare const document: { querySelectorAll(selector: string): Iterable<SvgElement>; documentElement: { scrollWidth: number; clientWidth: number } };

const CHROMIUM = '/usr/bin/chromium';
const dir = tmpDir('dm-digest-');
const store = join(dir, 'store.duckdb');
const html = join(dir, 'digest.html');
const NOW = ['--now', '2026-11-20T12:00:00Z'];
const RANGE = ['--from', '2026-10-24', '--to', '2026-11-20'];

beforeAll(async () => {
  const fixture = join(dir, 'events.jsonl');
  const g = await run(['fixtures', 'generate', '--seed', '5', '--accounts', '150', '--installations', '60', '--days', '60', '--start', '2026-09-22', '--out', fixture]);
  expect(g.code, g.stderr).toBe(0);
  const l = await run(['--store', store, 'load', fixture]);
  expect(l.code, l.stderr).toBe(0);
  const r = await run(['--store', store, 'report', ...RANGE, '--out', html, ...NOW]);
  expect(r.code, r.stderr).toBe(0);
});

describe('report --out digest.html', () => {
  it('is one self-contained page: no script, no external asset', () => {
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).not.toMatch(/<script|<link|<img|@import|url\(/i);
    expect(page).not.toMatch(/(src|href)=["']?(https?:)?\/\//i);
    expect(page).toContain('Compared with 2026-09-26 to 2026-10-23');
    for (const t of loadTracks()) expect(page).toContain(t.title.replace(/&/g, '&amp;'));
    // nothing half-written is left beside it
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  const haveChromium = existsSync(CHROMIUM);
  it.runIf(haveChromium || process.env.CI)('renders in headless Chromium without errors, every chart drawn, not blank, printable', async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
    const { chromium } = await import('playwright-core');
    const profile = mkdtempSync(join(tmpdir(), 'dm-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1000, height: 1400 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(`file://${html}`, { waitUntil: 'load' });
      expect(errors).toEqual([]);
      expect(requests).toEqual([`file://${html}`]);

      const charts = await page.evaluate(() =>
        [...document.querySelectorAll('svg.chart')].map((svg) => {
          const marks = [...svg.querySelectorAll('path, rect, circle')];
          const drawn = marks.filter((m) => {
            const b = m.getBBox();
            return (m.tagName === 'path' && (m.getAttribute('d') ?? '').length > 2 && b.width + b.height > 0) || (m.tagName !== 'path' && b.width > 0 && b.height > 0);
          });
          return { label: svg.getAttribute('aria-label'), drawn: drawn.length, width: svg.getBoundingClientRect().width };
        }),
      );
      // 13 sparklines + weekly line + demand + slowest + failing + DAU + features + 3 platform charts
      expect(charts.length).toBeGreaterThanOrEqual(20);
      for (const c of charts) {
        expect(c.drawn, `${c.label} has nothing drawn`).toBeGreaterThan(0);
        expect(c.width, `${c.label} has no width`).toBeGreaterThan(50);
      }

      // not blank: a blank page of the same size compresses to a small fraction of the digest's
      const shot = await page.screenshot({ fullPage: false, type: 'png' });
      const blankPage = await context.newPage();
      await blankPage.setContent('<!doctype html><html><body></body></html>');
      const blank = await blankPage.screenshot({ fullPage: false, type: 'png' });
      expect(shot.length).toBeGreaterThan(10 * blank.length);

      // printed: nothing wider than the paper, and it paginates into a real PDF
      await page.emulateMedia({ media: 'print' });
      await page.setViewportSize({ width: 720, height: 1000 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      const pdf = await page.pdf({ format: 'A4', printBackground: true });
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
      expect((pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length).toBeGreaterThan(1);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('agrees with the funnel command and says what changed', async () => {
    const digest = json(await run(['--store', store, 'report', ...RANGE, '--format', 'json', ...NOW]));
    const funnel = json(await run(['--store', store, 'funnel', '--resource', 'all', ...RANGE, '--format', 'json', ...NOW]));
    for (const r of funnel.resources) {
      const t = digest.discover.tracks.find((x: { slug: string }) => x.slug === r.slug);
      expect(t.after.sessions, r.slug).toBe(r.sessions);
      expect(t.after.completed, r.slug).toBe(r.completed);
    }
    const previous = json(await run(['--store', store, 'funnel', '--resource', 'all', '--from', '2026-09-26', '--to', '2026-10-23', '--format', 'json', ...NOW]));
    const total = previous.resources.reduce((s: number, r: { sessions: number }) => s + r.sessions, 0);
    expect(digest.discover.overall.previous.sessions).toBe(total);
    expect(digest.highlights.length).toBeGreaterThan(0);
    expect(digest.highlights[0].text).toMatch(/Discover completion/);
  });

  it('--format markdown prints the same digest for a wiki', async () => {
    const r = await run(['--store', store, 'report', ...RANGE, '--format', 'markdown', ...NOW]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^# Discover & Connect digest — 2026-10-24 to 2026-11-20/);
    for (const h of ['## What changed', '### Conversion by resource track', '### Slowest steps', '### Where sessions fail', '### The most common errors', '## Teleport Connect (RFD 97)', '### Features', '### Platforms', '### Downloads vs installations']) {
      expect(r.stdout).toContain(h);
    }
    for (const t of loadTracks()) expect(r.stdout).toContain(`| ${t.title} |`);
  });

  it('reports a file it cannot write with exit 2 and leaves nothing behind', async () => {
    const target = join(dir, 'missing-dir', 'digest.html');
    const r = await run(['--store', store, 'report', ...RANGE, '--out', target, ...NOW]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--out: cannot write .*missing-dir.*ENOENT/);
    expect(existsSync(target)).toBe(false);
    const all = await run(['--store', store, 'report', '--from', 'all', '--format', 'markdown', ...NOW]);
    expect(all.code).toBe(2);
    expect(all.stderr).toMatch(/--from: .* not all/);
    expect(all.stdout).toBe('');
  });
});

