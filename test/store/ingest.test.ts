import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { Store } from '../../src/store/store.js';
import { deriveEventUuid, loadEvents, loadFiles, type RawEvent } from '../../src/store/ingest.js';
import { storeInfo } from '../../src/store/info.js';
import { InputError } from '../../src/errors.js';
import { insertSql, LATE_SEQ, PID_SEQ } from '../../src/store/load/sql.js';

let dir: string;
let store: Store;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dm-ingest-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(async () => {
  await store?.close();
  store = await Store.open(':memory:');
});

const U = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const ev = (n: number, extra: Partial<RawEvent> = {}): RawEvent => ({
  uuid: U(n),
  event: 'tp.ui.discover.started',
  distinct_id: `user${n % 3}`,
  timestamp: `2024-05-01T10:00:${String(n % 60).padStart(2, '0')}Z`,
  properties: { 'tp.discover.metadata.id': `s${n}`, 'tp.discover.step.status': 'DISCOVER_STATUS_SUCCESS', n },
  ...extra,
});
const jsonl = (events: unknown[]) => events.map((e) => JSON.stringify(e)).join('\n') + '\n';
const file = (name: string, content: string | Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
async function count(sql = 'SELECT count(*) FROM events'): Promise<number> {
  return Number((await store.conn.runAndReadAll(sql)).getRows()[0]![0]);
}
async function rows(sql: string): Promise<Record<string, unknown>[]> {
  return (await store.conn.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}

/** Rows changed by each `UPDATE events` statement run during `fn` (a key filled after the insert rewrites the new rows). */
async function eventUpdatesDuring(fn: () => Promise<unknown>): Promise<number[]> {
  const updated: number[] = [];
  const run = store.conn.run.bind(store.conn);
  store.conn.run = (async (sql: string, ...rest: unknown[]) => {
    const r = await (run as (...a: unknown[]) => Promise<{ rowsChanged: number }>)(sql, ...rest);
    if (/^\s*UPDATE events/i.test(String(sql))) updated.push(r.rowsChanged);
    return r;
  }) as typeof store.conn.run;
  try {
    await fn();
  } finally {
    store.conn.run = run;
  }
  return updated;
}
const csvOf = (events: RawEvent[]) =>
  'uuid,event,distinct_id,timestamp,properties,team_id\n' +
  events.map((e) => [e.uuid, e.event, e.distinct_id, e.timestamp, `"${JSON.stringify(e.properties).replace(/"/g, '""')}"`, '2'].join(',')).join('\n') +
  '\n';

describe('formats', () => {
  const three = [ev(1), ev(2), ev(3)];
  it('loads JSONL, NDJSON, JSON arrays and CSV, plain or gzipped (by magic bytes), and stdin', async () => {
    const cases: [string, string | Buffer][] = [
      ['a.jsonl', jsonl(three)],
      ['b.ndjson', jsonl([ev(4), ev(5)])],
      ['c.json', JSON.stringify([ev(6), ev(7)], null, 2)],
      ['d.csv', csvOf([ev(8), ev(9)])],
      ['e.jsonl.gz', gzipSync(jsonl([ev(10)]))],
      ['f.data', gzipSync(csvOf([ev(11)]))], // gzip detected without the .gz name
      ['g.json.gz', gzipSync(JSON.stringify([ev(12)]))],
    ];
    const s = await loadFiles(store, cases.map(([n, c]) => file(n, c)));
    expect(s).toMatchObject({ read: 12, inserted: 12, duplicates: 0 });
    const stdin = Readable.from([jsonl([ev(13), ev(1)])]);
    const s2 = await loadFiles(store, ['-'], { stdin });
    expect(s2).toMatchObject({ read: 2, inserted: 1, duplicates: 1, files: ['<stdin>'] });
    expect(await count()).toBe(13);
    // CSV properties (a JSON string) land as JSON and in the materialized columns
    const r = await rows(`SELECT json_extract_string(properties, '$.n') AS n, "mat_tp_discover_step_status" AS st FROM events WHERE uuid = '${U(8)}'`);
    expect(r).toEqual([{ n: '8', st: 'DISCOVER_STATUS_SUCCESS' }]);
  });

  it('loads Parquet in PostHog batch-export layout (extra columns, properties as text), gzipped too', async () => {
    const p = join(dir, 'x.parquet');
    await store.conn.run(`COPY (SELECT '${U(21)}'::UUID AS uuid, 'tp.ui.discover.started' AS event,
        '{"tp.discover.metadata.id":"s","tp.discover.step.status":"DISCOVER_STATUS_SUCCESS"}' AS properties,
        'd1' AS distinct_id, 2 AS team_id, TIMESTAMP '2024-05-01 10:00:00' AS timestamp, 'pp1' AS person_id,
        '{"email":"a@x"}' AS person_properties, '' AS elements_chain
      UNION ALL SELECT '${U(22)}'::UUID, '$pageview', '{}', 'd2', 2, TIMESTAMP '2024-05-02 10:00:00', 'pp1', NULL, '')
      TO '${p}' (FORMAT parquet)`);
    const { readFileSync } = await import('node:fs');
    const gz = file('y.parquet.gz', gzipSync(readFileSync(p)));
    const s = await loadFiles(store, [p]);
    expect(s).toMatchObject({ read: 2, inserted: 2 });
    expect(await loadFiles(store, [gz])).toMatchObject({ read: 2, inserted: 0, duplicates: 2 });
    // two distinct ids, one person (person_id from the export), with the export's properties
    expect(await rows(`SELECT id, CAST(properties AS VARCHAR) AS p FROM persons`)).toEqual([{ id: 'pp1', p: '{"email":"a@x"}' }]);
    expect(await count(`SELECT count(DISTINCT person_id) FROM events`)).toBe(1);
  });

  it('fills materialized columns for keys first seen after the sampled rows, and ignores key names inside values', async () => {
    const many = Array.from({ length: 4200 }, (_, i) => ev(i, { event: '$pageview', properties: { note: '"tp.connector_type"' } }));
    many.push(ev(5000, { event: '$pageview', properties: { 'tp.connector_type': 'github', 'tp.is_cloud': true, 'dm.synthetic': 1 } }));
    await loadFiles(store, [file('late.jsonl', jsonl(many))]);
    expect(await rows(`SELECT "mat_tp_connector_type" AS c, "mat_tp_is_cloud" AS cl, "mat_dm_synthetic" AS s FROM events WHERE "mat_tp_connector_type" IS NOT NULL`)).toEqual([
      { c: 'github', cl: 'true', s: '1' },
    ]);
    expect(await count(`SELECT count(*) FROM events WHERE "mat_tp_connector_type" IS NULL`)).toBe(4200);
  });

  it('adds columns only for the taxonomy keys that occur; a key first seen in a later load gets its column then', async () => {
    await loadEvents(store, [ev(1), ev(2)]);
    // the keys the events carry and every key of their product, Discover (a rare one escapes any
    // sample): none of Connect's or the cluster envelope's
    expect(store.materializedKeys().sort()).toEqual([
      'tp.discover.auto_discovered.count',
      'tp.discover.config.method',
      'tp.discover.deploy.method',
      'tp.discover.deploy.type',
      'tp.discover.metadata.id',
      'tp.discover.metadata.sso',
      'tp.discover.resource.name',
      'tp.discover.selected_resources.count',
      'tp.discover.step.error',
      'tp.discover.step.status',
      'tp.user_name',
    ]);
    // a taxonomy key without a column is still queryable from the JSON
    const { propertySql } = await import('../../src/store/store.js');
    expect(propertySql(store, 'tp.connector_type')).toContain('json_extract_string');
    await loadEvents(store, [ev(3, { event: '$pageview', properties: { 'tp.connector_type': 'saml', $set: { plan: 'team' } } })]);
    expect(store.materializedColumn('tp.connector_type')).toBe('mat_tp_connector_type');
    expect(await rows(`SELECT uuid::VARCHAR AS u, mat_tp_connector_type AS c, mat__set AS s FROM events ORDER BY u`)).toEqual([
      { u: U(1), c: null, s: null },
      { u: U(2), c: null, s: null },
      { u: U(3), c: 'saml', s: '{"plan":"team"}' },
    ]);
    expect(JSON.parse(String((await rows(`SELECT CAST(properties AS VARCHAR) AS p FROM persons WHERE id = 'user0'`))[0]!.p))).toEqual({ plan: 'team' });
  });

  it('samples a big JSONL file across its length, so keys past its first rows get columns before the insert', async () => {
    const pad = 'x'.repeat(300);
    // 16k events (~6 MB): the first 8k without the key, every 50th after with it
    const events = Array.from({ length: 16000 }, (_, i) =>
      ev(i, { event: '$pageview', properties: { pad, ...(i >= 8000 && i % 50 === 0 ? { 'download.arch': `arch${i}` } : {}) } }),
    );
    const p = file('spread.jsonl', jsonl(events));
    const updates = await eventUpdatesDuring(() => loadFiles(store, [p]));
    // the insert wrote the column: no UPDATE of the new rows (each would cost a rewrite at commit)
    expect(updates).toEqual([]);
    expect(await count(`SELECT count(*) FROM events WHERE mat_download_arch IS NOT NULL`)).toBe(160);
  });

  it('a Discover key no sample sees (one event in thousands) gets its column from the insert, not from an UPDATE after it', async () => {
    // realistic fixtures: tp.discover.auto_discovered.count is on 3 events in 210k, past every sampled line
    const events = Array.from({ length: 4200 }, (_, i) => ev(i));
    events.push(ev(9000, { event: 'tp.ui.discover.autoDiscoveredResources', properties: { 'tp.discover.metadata.id': 's', 'tp.discover.step.status': 'DISCOVER_STATUS_SUCCESS', 'tp.discover.resource.name': 'DISCOVER_RESOURCE_SERVER', 'tp.discover.auto_discovered.count': 3 } }));
    const updated = await eventUpdatesDuring(() => loadFiles(store, [file('rare.jsonl', jsonl(events))]));
    expect(updated.filter((n) => n > 0)).toEqual([]);
    expect(await rows(`SELECT "mat_tp_discover_auto_discovered_count" AS c FROM events WHERE "mat_tp_discover_auto_discovered_count" IS NOT NULL`)).toEqual([{ c: '3' }]);
  });

  it('the first rows of gzipped JSONL give their keys columns before the insert, as do first rows only DuckDB parses', async () => {
    const events = (from: number, tag: string) =>
      Array.from({ length: 5000 }, (_, i) => ev(from + i, { event: '$pageview', properties: { n: i, ...(i >= 100 && i < 200 ? { [tag]: `v${i}` } : {}) } }));
    // NaN is read by DuckDB, not by JSON.parse: first rows with it are sampled by DuckDB
    const nan = jsonl(events(10000, 'download.kind')).replace(/"n":\d+,"download.kind"/g, '"n":NaN,"download.kind"');
    expect(nan.split('NaN')).toHaveLength(101);
    const updated = await eventUpdatesDuring(() => loadFiles(store, [file('head.jsonl.gz', gzipSync(jsonl(events(0, 'download.arch')))), file('nan.jsonl', nan)]));
    expect(updated.filter((n) => n > 0)).toEqual([]);
    expect(await count(`SELECT count(*) FROM events WHERE mat_download_arch IS NOT NULL`)).toBe(100);
    expect(await count(`SELECT count(*) FROM events WHERE mat_download_kind IS NOT NULL`)).toBe(100);
  });

  it('fills keys that occur only late in a file, in a later file of the same load, and in stores with every column already', async () => {
    const plain = (n: number) => ev(n, { event: '$pageview', properties: { n } });
    const a = Array.from({ length: 5000 }, (_, i) => plain(i));
    // late in file a: a key the store has no column for, one the sample made, and a person operator
    a.push(ev(6000, { event: '$pageview', distinct_id: 'late', properties: { 'download.arch': 'arm64', n: 7, $set_once: { first: 'x' } } }));
    const b = Array.from({ length: 5000 }, (_, i) => plain(10000 + i));
    b.push(ev(16000, { event: '$pageview', properties: { 'download.arch': 'amd64', 'tp.is_cloud': false } }));
    const check = async () => {
      expect(await rows(`SELECT uuid::VARCHAR AS u, mat_download_arch AS a, mat_tp_is_cloud AS c FROM events WHERE mat_download_arch IS NOT NULL OR mat_tp_is_cloud IS NOT NULL ORDER BY u`)).toEqual([
        { u: U(6000), a: 'arm64', c: null },
        { u: U(16000), a: 'amd64', c: 'false' },
      ]);
      expect(await count(`SELECT count(*) FROM events WHERE mat__set_once IS NOT NULL`)).toBe(1);
      expect(await rows(`SELECT CAST(properties AS VARCHAR) AS p FROM persons WHERE id = 'late'`)).toEqual([{ p: '{"first":"x"}' }]);
    };
    await loadFiles(store, [file('late-a.jsonl', jsonl(a)), file('late-b.jsonl', jsonl(b))]);
    await check();
    // a store made before columns were added on demand: every taxonomy column exists up front
    await store.close();
    store = await Store.open(':memory:');
    const { taxonomyPropertyKeys } = await import('../../src/events/taxonomy.js');
    await store.transaction(() => store.materialize([...taxonomyPropertyKeys(), '$set', '$set_once', '$unset']));
    await loadFiles(store, [file('late-a.jsonl', jsonl(a)), file('late-b.jsonl', jsonl(b))]);
    await check();
  });

  it('keys spelled with JSON escapes in CSV text are found late too; keys materialized by hand are filled by later loads', async () => {
    await store.transaction(() => store.materialize(['custom.key']));
    const many = Array.from({ length: 4200 }, (_, i) => ev(i, { event: '$pageview', properties: { n: i } }));
    const csv = csvOf(many) + [U(9000), '$pageview', 'd', '2024-05-01T10:00:00Z', `"{""tp.connector\u005ftype"": ""github"", ""custom.key"": 5}"`, '2'].join(',') + '\n';
    await loadFiles(store, [file('escaped.csv', csv)]);
    expect(await rows(`SELECT mat_tp_connector_type AS c, mat_custom_key AS k FROM events WHERE uuid = '${U(9000)}'`)).toEqual([{ c: 'github', k: '5' }]);
    expect(await count(`SELECT count(*) FROM events WHERE mat_tp_connector_type IS NOT NULL OR mat_custom_key IS NOT NULL`)).toBe(1);
  });

  it('materialized values are json_extract_string of the key, numbers in exponent form and nested values too', async () => {
    // json_transform (the insert's extraction) prints some numbers differently ('1e-07' for 1e-7)
    const props = [
      '"tp.discover.metadata.id": 1e-7, "tp.account_id": 1E16, "tp.cluster_name": -1.5e+300, "tp.user_name": 12345678901234567.0',
      '"tp.discover.metadata.id": "1e-07", "tp.account_id": 0.5, "tp.cluster_name": [1e-7, "x"], "tp.user_name": {"a": 2.5e-9}',
      '"tp.discover.metadata.id": true, "tp.account_id": null, "tp.cluster_name": "e\\u00e9\\"", "tp.user_name": 18446744073709551616',
    ];
    const text = props
      .map((p, i) => `{"uuid": "${U(i + 1)}", "event": "$pageview", "distinct_id": "d", "timestamp": "2024-05-01T10:00:00Z", "properties": {${p}}}`)
      .join('\n');
    await loadFiles(store, [file('numbers.jsonl', text + '\n')]);
    const keys = ['tp.discover.metadata.id', 'tp.account_id', 'tp.cluster_name', 'tp.user_name'];
    const got = await rows(
      `SELECT ${keys.map((k, i) => `${store.materializedColumn(k)} AS c${i}, json_extract_string(properties, '$."${k}"') AS j${i}`).join(', ')} FROM events ORDER BY uuid`,
    );
    expect(got).toHaveLength(3);
    for (const r of got) for (let i = 0; i < keys.length; i++) expect(r[`c${i}`]).toBe(r[`j${i}`]);
    expect(got.map((r) => r.c0)).toEqual(['1e-7', '1e-07', 'true']);
    expect(got.map((r) => r.c2)).toEqual(['-1.5e300', '[1e-7,"x"]', 'eé"']);
  });

  it('keys that differ only in case get their own columns and values', async () => {
    await store.transaction(() => store.materialize(['TP.Account_ID']));
    expect(store.materializedColumn('TP.Account_ID')).toBe('mat_TP_Account_ID');
    await loadEvents(store, [ev(1, { event: '$pageview', properties: { 'tp.account_id': 'lower', 'TP.Account_ID': 'upper' } })]);
    // (DuckDB's column names are case-insensitive too)
    const lower = store.materializedColumn('tp.account_id')!;
    expect(lower).toBe('mat_tp_account_id_2');
    expect(await rows(`SELECT "${lower}" AS l, "mat_TP_Account_ID" AS u FROM events`)).toEqual([{ l: 'lower', u: 'upper' }]);
  });

  it('accepts timestamps without a zone as UTC, with offsets, and epoch milliseconds; keeps microseconds', async () => {
    await loadEvents(store, [
      ev(1, { timestamp: '2024-05-01 10:00:00.123456' }),
      ev(2, { timestamp: '2024-05-01T12:00:00+02:00' }),
      ev(3, { timestamp: 1714557600000 as unknown as string }),
    ]);
    const r = await rows(`SELECT epoch_us(timestamp) AS us FROM events ORDER BY uuid`);
    expect(r.map((x) => String(x.us))).toEqual(['1714557600123456', '1714557600000000', '1714557600000000']);
  });
});

describe('bad input: exit 2, the place, store unchanged', () => {
  const cases: [string, string | Buffer, RegExp][] = [
    ['notjson.jsonl', jsonl([ev(1)]) + '{"event": oops}\n', /notjson\.jsonl:2: not valid JSON/],
    ['ts.jsonl', jsonl([ev(1), ev(2), { ...ev(3), timestamp: 'yesterday' }]), /ts\.jsonl:3: timestamp: "yesterday" is not a timestamp/],
    ['noevent.jsonl', jsonl([ev(1), { ...ev(2), event: undefined }]), /noevent\.jsonl:2: event: missing/],
    ['nodid.jsonl', '\n' + jsonl([{ ...ev(2), distinct_id: '' }]), /nodid\.jsonl:2: distinct_id: missing/],
    ['uuid.jsonl', jsonl([ev(1), { ...ev(2), uuid: 'not-a-uuid' }]), /uuid\.jsonl:2: uuid: "not-a-uuid" is not a UUID/],
    [
      'status.jsonl',
      jsonl([ev(1), { ...ev(2), properties: { 'tp.discover.metadata.id': 's', 'tp.discover.step.status': 'DISCOVER_STATUS_DONE' } }]),
      /status\.jsonl:2: properties\["tp\.discover\.step\.status"\]: unknown Discover status 'DISCOVER_STATUS_DONE'/,
    ],
    [
      'resource.jsonl',
      jsonl([
        {
          ...ev(2),
          event: 'tp.ui.discover.deployService',
          properties: { 'tp.discover.metadata.id': 's', 'tp.discover.step.status': 'DISCOVER_STATUS_SUCCESS', 'tp.discover.resource.name': 'DISCOVER_RESOURCE_TOASTER' },
        },
      ]),
      /resource\.jsonl:1: properties\["tp\.discover\.resource\.name"\]: unknown Discover resource/,
    ],
    ['props.jsonl', jsonl([{ ...ev(1), properties: [1, 2] }]), /props\.jsonl:1: properties: expected a JSON object/],
    ['arr.json', JSON.stringify([ev(1), ev(2), { ...ev(3), timestamp: 'soon' }], null, 1), /arr\.json\[2\] \(line \d+\): timestamp: "soon"/],
    ['arrsyntax.json', '[' + JSON.stringify(ev(1)) + ',\n{"event": }]', /arrsyntax\.json\[1\] \(line 2\): not valid JSON/],
    ['bad.csv', csvOf([ev(1), ev(2)]).replace('2024-05-01T10:00:02Z', 'never'), /bad\.csv:3: timestamp: "never"/],
    ['cols.csv', 'event,distinct_id,timestamp\ne,d,2024-05-01\ne,d\n', /cols\.csv:3: expected 3 columns/],
    ['gz.jsonl.gz', gzipSync(jsonl([ev(1), { ...ev(2), uuid: 'zz' }])), /gz\.jsonl\.gz:2: uuid/],
    ['nothing.csv', 'a,b\n1,2\n', /nothing\.csv:1: not JSON, and not CSV with an 'event' column/],
    ['broken.parquet', 'PAR1 but not really', /broken\.parquet: not a readable Parquet file/],
  ];
  for (const [name, content, re] of cases) {
    it(name, async () => {
      await loadEvents(store, [ev(100), ev(101)]);
      const before = [await count(), await count('SELECT count(*) FROM persons'), await count('SELECT count(*) FROM person_distinct_ids')];
      const err = await loadFiles(store, [file(name, content)]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).exitCode).toBe(2);
      expect((err as Error).message).toMatch(re);
      expect([await count(), await count('SELECT count(*) FROM persons'), await count('SELECT count(*) FROM person_distinct_ids')]).toEqual(before);
    });
  }

  it('names the Parquet row and the missing file; a failing file among several stores nothing', async () => {
    const p = join(dir, 'bad.parquet');
    await store.conn.run(`COPY (SELECT * FROM (VALUES ('e', 'd', '2024-05-01'), ('e', 'd', 'nope')) t(event, distinct_id, timestamp)) TO '${p}' (FORMAT parquet)`);
    await expect(loadFiles(store, [p])).rejects.toThrow(/bad\.parquet: row 2: timestamp: "nope"/);
    await expect(loadFiles(store, [join(dir, 'missing.jsonl')])).rejects.toThrow(/missing\.jsonl: no such file/);
    const good = file('good.jsonl', jsonl([ev(1), ev(2)]));
    const bad = file('bad2.jsonl', jsonl([{ ...ev(3), uuid: 'x' }]));
    await expect(loadFiles(store, [good, bad])).rejects.toThrow(/bad2\.jsonl:1: uuid/);
    expect(await count()).toBe(0);
    expect(store.materializedKeys()).toEqual([]); // the first load's columns were rolled back too
    expect(await loadFiles(store, [good])).toMatchObject({ inserted: 2 });
  });

  it('checks the vocabulary of keys that occur only after the sampled rows', async () => {
    // (no Discover event before the late one: it would give every Discover key a column)
    await loadEvents(store, [ev(100, { event: '$pageview' }), ev(101, { event: '$pageview' })]);
    const many = Array.from({ length: 4200 }, (_, i) => ev(i, { event: '$pageview', properties: { n: i } }));
    many.push(
      ev(5000, {
        event: 'tp.ui.discover.deployService',
        properties: {
          'tp.discover.metadata.id': 's',
          'tp.discover.step.status': 'DISCOVER_STATUS_SUCCESS',
          'tp.discover.resource.name': 'DISCOVER_RESOURCE_SERVER',
          'tp.discover.deploy.method': 'DEPLOY_METHOD_TELEPATHY',
        },
      }),
    );
    await expect(loadFiles(store, [file('late-vocab.jsonl', jsonl(many))])).rejects.toThrow(/late-vocab\.jsonl:4201: properties\["tp\.discover\.deploy\.method"\]/);
    expect(await count()).toBe(2);
    expect(store.materializedColumn('tp.discover.deploy.method')).toBeUndefined();
  });

  it('--strict-vocabulary also requires the prehog envelope on Teleport events', async () => {
    await expect(loadEvents(store, [ev(1)], { strictVocabulary: true })).rejects.toThrow(/^events\[0\]: properties\["tp\.cluster_name"\]/);
    expect(await count()).toBe(0);
    expect(await loadEvents(store, [ev(1, { event: '$pageview' })], { strictVocabulary: true })).toMatchObject({ inserted: 1 });
  });

  it('in-memory batches name the element', async () => {
    await expect(loadEvents(store, [ev(1), { ...ev(2), timestamp: 'x' }], { where: 'batch' })).rejects.toThrow(/^batch\[1\]: timestamp/);
  });
});

describe('uuid dedup', () => {
  it('the same file twice, and duplicates within one file, are stored once', async () => {
    const f = file('dup.jsonl', jsonl([ev(1), ev(2), ev(2), ev(3)]));
    expect(await loadFiles(store, [f])).toMatchObject({ read: 4, inserted: 3, duplicates: 1 });
    expect(await loadFiles(store, [f])).toMatchObject({ read: 4, inserted: 0, duplicates: 4, persons: 0 });
    expect(await count()).toBe(3);
    expect(await count('SELECT count(DISTINCT uuid) FROM events')).toBe(3);
  });

  it('loads after duplicate removal (deleted rows) still see only their own batch', async () => {
    await loadEvents(store, [ev(1), ev(2)]);
    await loadEvents(store, [ev(3), ev(1), ev(2)]); // deletes two of its three rows
    await store.conn.run('CHECKPOINT');
    expect(await loadEvents(store, [ev(4), ev(3), ev(5)])).toMatchObject({ inserted: 2, duplicates: 1 });
    expect(await count()).toBe(5);
    expect(await count('SELECT count(*) FROM persons')).toBe(3);
  });

  it('events without uuid get a deterministic content-derived uuid (idempotent re-load)', async () => {
    const noUuid = [ev(1), ev(2)].map(({ uuid: _u, ...rest }) => rest);
    const f = file('nouuid.jsonl', jsonl(noUuid));
    expect(await loadFiles(store, [f])).toMatchObject({ inserted: 2, derivedUuids: 2 });
    expect(await loadFiles(store, [f])).toMatchObject({ inserted: 0, duplicates: 2 });
    const r = await rows(`SELECT uuid::VARCHAR AS u, epoch_us(timestamp)::VARCHAR AS us, CAST(json(properties) AS VARCHAR) AS p, event, distinct_id FROM events ORDER BY us`);
    for (const x of r) {
      expect(x.u).toBe(deriveEventUuid(String(x.event), String(x.distinct_id), BigInt(String(x.us)), String(x.p)));
      expect(String(x.u)[14]).toBe('5');
    }
  });
});

describe('persons', () => {
  it('$set overwrites, $set_once only if absent, $unset removes — in timestamp order, across loads', async () => {
    const t = (s: number) => `2024-05-01T10:00:${String(s).padStart(2, '0')}Z`;
    const base = { event: '$pageview', distinct_id: 'alice' };
    await loadEvents(store, [
      { ...base, uuid: U(3), timestamp: t(30), properties: { $set: { plan: 'team' }, $set_once: { first: 'c' } } },
      { ...base, uuid: U(1), timestamp: t(10), properties: { $set: { plan: 'free', os: 'linux' }, $set_once: { first: 'a' } } },
    ]);
    const p1 = JSON.parse(String((await rows(`SELECT CAST(properties AS VARCHAR) AS p FROM persons`))[0]!.p));
    expect(p1).toEqual({ plan: 'team', os: 'linux', first: 'a' });
    // an older event loaded later still applies in timestamp order
    await loadEvents(store, [
      { ...base, uuid: U(0), timestamp: t(5), properties: { $set_once: { first: 'zero' }, $set: { plan: 'ancient' } } },
      { ...base, uuid: U(4), timestamp: t(40), properties: { $unset: ['os'] } },
    ]);
    const p = JSON.parse(String((await rows(`SELECT CAST(properties AS VARCHAR) AS p FROM persons`))[0]!.p));
    expect(p).toEqual({ first: 'zero', plan: 'team' });
    expect(await count('SELECT count(*) FROM persons')).toBe(1);
    expect(await rows(`SELECT strftime(created_at, '%H:%M:%S') AS c FROM persons`)).toEqual([{ c: '10:00:05' }]);
    // awkward values survive the round trip
    const odd = { q: `it's "quoted" \\ back\nslash`, u: 'zażółć ✓', n: [1, { a: null }], e: '' };
    await loadEvents(store, [{ ...base, distinct_id: "o'dd", uuid: U(9), timestamp: t(50), properties: { $set: odd } }]);
    const p2 = (await rows(`SELECT CAST(properties AS VARCHAR) AS p FROM persons WHERE id = 'o''dd'`))[0]!;
    expect(JSON.parse(String(p2.p))).toEqual(odd);
  });

  it('person_id and person_properties from exports merge distinct ids into one person; later exports re-point', async () => {
    await loadEvents(store, [
      { uuid: U(1), event: 'e', distinct_id: 'anon1', timestamp: '2024-05-01T10:00:00Z' },
      { uuid: U(2), event: 'e', distinct_id: 'anon2', timestamp: '2024-05-01T10:00:01Z', properties: { $set: { a: 1 } } },
    ]);
    expect(await count('SELECT count(*) FROM persons')).toBe(2);
    const s = await loadEvents(store, [
      { uuid: U(3), event: 'e', distinct_id: 'anon1', timestamp: '2024-05-02T10:00:00Z', person_id: 'P', person_properties: { email: 'x@y' } },
      { uuid: U(4), event: 'e', distinct_id: 'anon2', timestamp: '2024-05-02T10:00:01Z', person_id: 'P', person_properties: { email: 'x@y', b: 2 } },
    ]);
    expect(s.remappedDistinctIds).toBe(2);
    expect(await rows(`SELECT id, CAST(properties AS VARCHAR) AS p, strftime(created_at, '%d %H:%M:%S') AS c FROM persons`)).toEqual([
      { id: 'P', p: '{"email":"x@y","b":2}', c: '01 10:00:00' },
    ]);
    expect(await rows(`SELECT DISTINCT person_id FROM events`)).toEqual([{ person_id: 'P' }]);
    expect(await rows(`SELECT distinct_id, person_id FROM person_distinct_ids ORDER BY 1`)).toEqual([
      { distinct_id: 'anon1', person_id: 'P' },
      { distinct_id: 'anon2', person_id: 'P' },
    ]);
    // later events without person_id follow the mapping
    await loadEvents(store, [{ uuid: U(5), event: 'e', distinct_id: 'anon1', timestamp: '2024-05-03T10:00:00Z' }]);
    expect(await count(`SELECT count(*) FROM events WHERE person_id = 'P'`)).toBe(5);
  });
});

describe('row order', () => {
  it('stores rows in input order (funnels break ties in time by it), with vocabulary events and mapped persons among them', async () => {
    // Discover events (checked by the vocabulary) between others, one timestamp for all
    const mixed = (from: number, n: number, extra: (i: number) => Partial<RawEvent> = () => ({})) =>
      Array.from({ length: n }, (_, i) =>
        ev(from + i, { timestamp: '2024-05-01T10:00:00Z', distinct_id: `d${i % 7}`, ...(i % 3 ? { event: '$pageview', properties: { i } } : {}), ...extra(i) }),
      );
    const order = async (after: number) =>
      (await rows(`SELECT uuid::VARCHAR AS u FROM events WHERE rowid >= ${after} ORDER BY rowid`)).map((r) => r.u);
    const a = mixed(0, 3000);
    await loadFiles(store, [file('order-a.jsonl', jsonl(a))]);
    expect(await order(0)).toEqual(a.map((e) => e.uuid));
    // exports map d0..d6 to other persons; later events without person_id look them up
    await loadEvents(store, mixed(5000, 7, (i) => ({ person_id: `P${i % 2}` })));
    const b = mixed(10000, 3000);
    await loadFiles(store, [file('order-b.jsonl', jsonl(b))]);
    expect(await order(3007)).toEqual(b.map((e) => e.uuid));
    expect(await rows(`SELECT DISTINCT person_id FROM events WHERE rowid >= 3007 ORDER BY 1`)).toEqual([{ person_id: 'P0' }, { person_id: 'P1' }]);
  });

  it('each JSONL and CSV insert is one parallel, order-keeping statement (a batch insert over the reader, no join)', async () => {
    // An IN list of 5+ items becomes a join in DuckDB: the insert then ran on one thread and its
    // rows were written out again at commit.
    await store.conn.run(`SET threads = 2; SET preserve_insertion_order = true`);
    await store.conn.run(`CREATE OR REPLACE TEMP SEQUENCE ${LATE_SEQ}; CREATE OR REPLACE TEMP SEQUENCE ${PID_SEQ}`);
    const sources = [
      { display: 'plan.jsonl', path: file('plan.jsonl', jsonl([ev(1), ev(2)])), format: 'jsonl' as const, gzip: false },
      { display: 'plan.csv', path: file('plan.csv', csvOf([ev(3)])), format: 'csv' as const, gzip: false, header: ['uuid', 'event', 'distinct_id', 'timestamp', 'properties', 'team_id'] },
    ];
    for (const src of sources) {
      const ins = await insertSql(store, src);
      const plan = (await store.conn.runAndReadAll(`EXPLAIN ${ins.sql}`)).getRows().map((r) => String(r[1])).join('\n');
      expect(plan, src.display).toContain('BATCH_INSERT');
      expect(plan, src.display).not.toMatch(/JOIN/);
    }
  });

  it('a load leaves the settings it changes as they were, failed or not', async () => {
    const settings = `SELECT current_setting('preserve_insertion_order')::VARCHAR AS pio, current_setting('write_buffer_row_group_count')::VARCHAR AS wb,
      current_setting('disabled_optimizers') AS dis`;
    await store.conn.run(`SET preserve_insertion_order = false; SET write_buffer_row_group_count = 3`);
    const before = await rows(settings);
    await loadEvents(store, [ev(1)]);
    expect(await rows(settings)).toEqual(before);
    await expect(loadFiles(store, [file('bad-settings.jsonl', jsonl([ev(2), { ...ev(3), timestamp: 'nope' }]))])).rejects.toThrow(InputError);
    expect(await rows(settings)).toEqual(before);
  });

  it('with more than 10,000 distinct ids mapped to other persons, later events still follow the mappings', async () => {
    const exported = Array.from({ length: 10_050 }, (_, i) => ev(i, { distinct_id: `x${i}`, person_id: `P${i % 100}` }));
    await loadEvents(store, exported);
    const later = Array.from({ length: 300 }, (_, i) => ev(20_000 + i, { distinct_id: `x${i * 31}` }));
    await loadEvents(store, later);
    expect(await rows(`SELECT count(*) AS n, count(*) FILTER (WHERE person_id = 'P' || (CAST(substr(distinct_id, 2) AS INTEGER) % 100)) AS ok FROM events WHERE rowid >= 10050`)).toEqual([
      { n: '300', ok: '300' },
    ]);
  });
});

describe('store info', () => {
  it('gives events, persons, date span and event names with counts', async () => {
    await loadEvents(store, [ev(1), ev(2), ev(4, { event: '$pageview', timestamp: '2024-06-01T00:00:00Z' })]);
    const info = await storeInfo(store);
    expect(info).toMatchObject({
      events: 3,
      persons: 2, // user1 (two events) and user2
      first: '2024-05-01T10:00:01.000Z',
      last: '2024-06-01T00:00:00.000Z',
      eventNames: [
        { name: 'tp.ui.discover.started', count: 2 },
        { name: '$pageview', count: 1 },
      ],
    });
    expect(info.materialized).toContain('tp.discover.step.status');
  });
});
