// ClickHouse (chDB, in-process) side of bench/funnel-vs-clickhouse.mjs: loads the Parquet export
// of the funnel bench store into a MergeTree ordered like PostHog's events table, then answers
// one line per "run" on stdin with the windowFunnel time and level counts as JSON.
//   node chdb-funnel.cjs PARQUET DATADIR STEP_EVENTS_JSON   (chdb resolved from CHDB_DIR)
const { createRequire } = require('node:module');
const { createInterface } = require('node:readline');
const fs = require('node:fs');

const { Session } = createRequire(`${process.env.CHDB_DIR}/`)('chdb');
const [parquet, dir, stepsJson] = process.argv.slice(2);
fs.rmSync(dir, { recursive: true, force: true });
const s = new Session(dir);
const lit = (x) => `'${String(x).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
s.query(`CREATE TABLE ev ENGINE = MergeTree ORDER BY (toDate(ts), event, cityHash64(session_id)) AS
  SELECT assumeNotNull(session_id) AS session_id, assumeNotNull(event) AS event,
         fromUnixTimestamp64Milli(assumeNotNull(ts_ms)) AS ts FROM file(${lit(parquet)}, Parquet)`);
s.query('OPTIMIZE TABLE ev FINAL');
const conds = JSON.parse(stepsJson).map((e) => `event = ${lit(e)}`).join(', ');
// the 7-step funnel per session, 1-day window (ms), as a level histogram
const sql = `SELECT level, count() FROM (SELECT session_id, windowFunnel(86400000)(toUInt64(toUnixTimestamp64Milli(ts)), ${conds}) AS level FROM ev GROUP BY session_id) GROUP BY level ORDER BY level`;
const version = s.query('SELECT version()', 'TSV').trim();
process.stdout.write(`${JSON.stringify({ ready: true, version, rows: Number(s.query('SELECT count() FROM ev', 'TSV')) })}\n`);
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line !== 'run') {
    s.close();
    fs.rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  }
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const out = s.query(sql, 'TSV');
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  const levels = out.trim().split('\n').map((l) => l.split('\t').map(Number));
  process.stdout.write(`${JSON.stringify({ ms, cpu: (c.user + c.system) / 1000, levels })}\n`);
});
