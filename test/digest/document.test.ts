/** A Report that carries a whole document (the digest): table and Markdown print it, JSON prints the data. */
import { describe, expect, it } from 'vitest';
import { RENDERERS, type Report } from '../../src/output/report.js';

const report: Report = {
  json: { range: { from: '2026-11-01', to: '2026-11-30' } },
  tables: [{ columns: [{ key: 'x', header: 'X' }], rows: [{ x: 'a table row' }] }],
  document: () => '# Digest\n\nCompletion 62.0%\n',
  tip: 'write it to a file with --out digest.html',
};

describe('a report with a document', () => {
  it('prints the document, not the tables, in table and markdown output', () => {
    for (const f of ['table', 'markdown'] as const) {
      const r = RENDERERS[f](report);
      expect(r.stdout).toBe('# Digest\n\nCompletion 62.0%\n');
      expect(r.tip).toBe(report.tip);
    }
  });

  it('prints the data in JSON output', () => {
    expect(JSON.parse(RENDERERS.json(report).stdout)).toEqual(report.json);
  });
});
