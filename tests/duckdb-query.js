// duckdb-query.js SQL - run SQL in an in-memory DuckDB and print each row as
// one JSON object (the independent reader for weir's tests and benchmarks).
// Values are converted to the canonical forms of ARCHITECTURE §2.
const { DuckDBInstance } = require('@duckdb/node-api');

function canon(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(canon);
  if (typeof v === 'object') {
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = canon(x);
    return o;
  }
  return v;
}

(async () => {
  const sql = process.argv[2];
  const threads = process.env.DUCKDB_THREADS || '2';
  const inst = await DuckDBInstance.create(':memory:', { threads });
  const con = await inst.connect();
  const reader = await con.runAndReadAll(sql);
  const rows = reader.getRowObjectsJson();
  const out = [];
  for (const r of rows) out.push(JSON.stringify(canon(r)));
  if (out.length) process.stdout.write(out.join('\n') + '\n');
})().catch((e) => { process.stderr.write(String(e.message || e) + '\n'); process.exit(1); });
