// delta-replay.js TABLE [VERSION] - an independent replay of a Delta log for
// the tests: reads the JSON commits 0..VERSION (all by default) with no weir
// code and prints one JSON object: the version, live files (path decoded,
// absolute, with partitionValues, size and stats), txn versions per appId,
// partitionColumns and the schema's column names.
const fs = require('fs');
const path = require('path');

const table = process.argv[2];
const log = path.join(table, '_delta_log');
const versions = fs.readdirSync(log)
  .filter((n) => /^\d{20}\.json$/.test(n))
  .map((n) => parseInt(n.slice(0, 20), 10))
  .sort((a, b) => a - b);
const upto = process.argv[3] !== undefined ? parseInt(process.argv[3], 10) : versions[versions.length - 1];
const files = new Map();
const txn = {};
let meta = null;
let protocol = null;
for (let v = 0; v <= upto; v++) {
  if (versions[v] !== v) throw new Error(`commit ${v} missing`);
  const lines = fs.readFileSync(path.join(log, String(v).padStart(20, '0') + '.json'), 'utf8').split('\n');
  for (const line of lines) {
    if (!line.trim()) continue;
    const a = JSON.parse(line);
    if (a.add) files.set(decodeURIComponent(a.add.path), a.add);
    if (a.remove) files.delete(decodeURIComponent(a.remove.path));
    if (a.metaData) meta = a.metaData;
    if (a.protocol) protocol = a.protocol;
    if (a.txn) txn[a.txn.appId] = a.txn.version;
  }
}
const live = [...files.entries()].sort().map(([p, a]) => ({
  path: path.resolve(table, p), partitionValues: a.partitionValues, size: a.size,
  stats: a.stats ? JSON.parse(a.stats) : null,
}));
const schema = JSON.parse(meta.schemaString);
process.stdout.write(JSON.stringify({
  version: upto, files: live, txn, protocol, partitionColumns: meta.partitionColumns,
  columns: schema.fields.map((f) => f.name),
}) + '\n');
