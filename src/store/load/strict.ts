/**
 * Strict vocabulary (opt-in, --strict-vocabulary): every Teleport event through
 * checkTeleportEvent(strict), and the place in the files of the first one failing.
 */
import { InputError } from '../../errors.js';
import { checkTeleportEvent, isTeleportEvent } from '../../events/vocabulary.js';
import type { Store } from '../store.js';
import { stringInSql } from '../sql.js';
import { readRecords, type Source } from '../sources.js';
import { extractString, vocabRules } from '../vocab-rules.js';
import { objectValue } from './diagnose.js';
import { parseObject } from './persons.js';

export class StrictVocabularyError extends InputError {
  constructor(where: string, message: string) {
    super(where, message, 'Strict vocabulary check (--strict-vocabulary): prehog sends the cluster envelope and anonymized names with every event.');
  }
}

/** After a strict failure (transaction rolled back): the first failing record's place in the files. */
export async function locateStrict(sources: Source[], fallback: StrictVocabularyError): Promise<Error> {
  for (const src of sources) {
    if (src.format === 'parquet') continue;
    for await (const rec of readRecords(src)) {
      if (rec.error || !rec.value || typeof rec.value !== 'object') continue;
      const r = rec.value as Record<string, unknown>;
      const event = extractString(r.event);
      if (!event) continue;
      const props = objectValue(r.properties, src.format === 'csv' ? 'text' : 'json') || {};
      const issue = checkTeleportEvent(event, props, { strict: true });
      if (issue) return new StrictVocabularyError(rec.where, `${issue.path}: ${issue.message}`);
    }
  }
  return fallback;
}

export async function strictCheck(store: Store, before: number): Promise<void> {
  const t = vocabRules();
  const names = [...new Set(t.flatMap((r) => r.events))];
  const all = (await store.conn.runAndReadAll(`SELECT DISTINCT event FROM events WHERE rowid > ${before}`))
    .getRows()
    .map((r) => String(r[0]))
    .filter((e) => isTeleportEvent(e) || names.includes(e));
  if (all.length === 0) return;
  const result = await store.conn.stream(
    `SELECT uuid::VARCHAR, event, CAST(properties AS VARCHAR) FROM events WHERE rowid > ${before} AND ${stringInSql('event', all)}`,
  );
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    for (const [uuid, event, props] of chunk.getRows()) {
      const issue = checkTeleportEvent(String(event), parseObject(String(props ?? '{}')) ?? {}, { strict: true });
      if (issue) throw new StrictVocabularyError(`event ${String(uuid)} (${String(event)})`, `${issue.path}: ${issue.message}`);
    }
  }
}

