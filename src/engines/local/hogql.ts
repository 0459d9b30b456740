/**
 * A tiny HogQL expression reader for the expressions funnels aggregate by
 * (`funnelsFilter.funnelAggregateByHogQL`): a field chain, not general HogQL.
 *
 *   properties.$session_id            properties.`tp.discover.metadata.id`
 *   properties['tp.discover.metadata.id']   properties."x"
 *   person_id  distinct_id  event  $session_id (= properties.$session_id)
 *   person.properties.email  person.id  e.properties.x (table alias `e`/`events`)
 *
 * Compiles to DuckDB SQL over the events alias and the persons alias.
 */
import { UsageError } from '../../errors.js';
import type { Store } from '../../store/store.js';
import { personPropertySql, propertySql } from '../../store/sql.js';

export type FieldRef =
  | { kind: 'event_property'; key: string }
  | { kind: 'person_property'; key: string }
  | { kind: 'column'; column: 'person_id' | 'distinct_id' | 'event' | 'uuid' | 'timestamp' };

const COLUMNS = new Set(['person_id', 'distinct_id', 'event', 'uuid', 'timestamp']);

/** Split a HogQL field chain into identifiers, honouring `quoted`, "quoted" and ['subscript']. */
function tokenize(expr: string, where: string): string[] {
  const parts: string[] = [];
  let i = 0;
  const s = expr.trim();
  const fail = (msg: string): never => {
    throw new UsageError(
      `${where}: cannot read the HogQL expression ${JSON.stringify(expr)}: ${msg}`,
      'The local engine aggregates funnels by a field: properties.$session_id, properties.`a.b`, properties[\'a.b\'], person_id, distinct_id, person.properties.x.',
    );
  };
  if (s === '') fail('it is empty');
  let expectPart = true;
  while (i < s.length) {
    const ch = s[i]!;
    if (expectPart) {
      if (ch === '`' || ch === '"') {
        const end = s.indexOf(ch, i + 1);
        if (end < 0) fail(`unclosed ${ch}`);
        parts.push(s.slice(i + 1, end));
        i = end + 1;
      } else {
        const m = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(s.slice(i));
        if (!m) fail(`unexpected '${ch}' at position ${i + 1}`);
        parts.push(m![0]);
        i += m![0].length;
      }
      expectPart = false;
      continue;
    }
    if (ch === '.') {
      expectPart = true;
      i++;
      continue;
    }
    if (ch === '[') {
      const m = /^\[\s*(['"])((?:\\.|(?!\1).)*)\1\s*\]/.exec(s.slice(i));
      if (!m) fail(`expected ['key'] at position ${i + 1}`);
      parts.push(m![2]!.replace(/\\(.)/g, '$1'));
      i += m![0].length;
      continue;
    }
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    fail(`unexpected '${ch}' at position ${i + 1} (only field references are supported)`);
  }
  if (expectPart) fail('it ends with a dot');
  return parts;
}

export function parseFieldExpr(expr: string, where: string): FieldRef {
  let parts = tokenize(expr, where);
  if ((parts[0] === 'e' || parts[0] === 'events') && parts.length > 1) parts = parts.slice(1);
  const bad = (): never => {
    throw new UsageError(
      `${where}: unsupported HogQL field ${JSON.stringify(expr)}`,
      'Supported: properties.<key>, person.properties.<key>, person_id, person.id, distinct_id, event, $session_id.',
    );
  };
  if (parts.length === 1) {
    const p = parts[0]!;
    if (COLUMNS.has(p)) return { kind: 'column', column: p as 'person_id' };
    if (p.startsWith('$')) return { kind: 'event_property', key: p };
    return bad();
  }
  if (parts[0] === 'properties' && parts.length === 2) return { kind: 'event_property', key: parts[1]! };
  if (parts[0] === 'person' && parts[1] === 'properties' && parts.length === 3) return { kind: 'person_property', key: parts[2]! };
  if (parts[0] === 'person' && parts[1] === 'id' && parts.length === 2) return { kind: 'column', column: 'person_id' };
  return bad();
}

/** SQL for a field reference. */
export function fieldSql(ref: FieldRef, store: Pick<Store, 'materializedColumn'>, eventAlias: string, personAlias: string): string {
  switch (ref.kind) {
    case 'event_property':
      return propertySql(store, ref.key, eventAlias);
    case 'person_property':
      return personPropertySql(ref.key, personAlias);
    case 'column':
      return ref.column === 'uuid' || ref.column === 'timestamp'
        ? `CAST(${eventAlias}.${ref.column} AS VARCHAR)`
        : `${eventAlias}.${ref.column}`;
  }
}
