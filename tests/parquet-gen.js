// parquet-gen.js SEED ROWS DIR - a random schema and random rows for the
// Parquet property test: writes DIR/schema.ddl and DIR/rows.ndjson (values
// in the canonical NDJSON forms of ARCHITECTURE §2; the schema in the form
// weir-lake-cat --schema prints).  Deterministic per seed.
const fs = require('fs');
const [seed, nrows, dir] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];

let s = seed >>> 0 || 1;
function rnd() { // xorshift32
  s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
  return s / 4294967296;
}
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
const pick = (a) => a[int(0, a.length - 1)];

const PRIMS = ['BOOLEAN', 'TINYINT', 'SMALLINT', 'INT', 'BIGINT', 'FLOAT', 'DOUBLE', 'DECIMAL', 'STRING',
  'BINARY', 'DATE', 'TIMESTAMP', 'TIMESTAMP_NTZ'];

function genType(depth) {
  const r = rnd();
  if (depth < 3 && r < 0.12) return { k: 'ARRAY', elem: genType(depth + 1) };
  if (depth < 3 && r < 0.20) return { k: 'MAP', key: { k: pick(['STRING', 'INT']) }, val: genType(depth + 1) };
  if (depth < 3 && r < 0.30) {
    const n = int(1, 3), fields = [];
    for (let i = 0; i < n; i++) fields.push({ name: 'f' + i, t: genType(depth + 1) });
    return { k: 'STRUCT', fields };
  }
  const k = pick(PRIMS);
  if (k === 'DECIMAL') { const p = int(1, 38); return { k, p, sc: int(0, p) }; }
  return { k };
}

function ddl(t) {
  switch (t.k) {
    case 'ARRAY': return `ARRAY<${ddl(t.elem)}>`;
    case 'MAP': return `MAP<${ddl(t.key)},${ddl(t.val)}>`;
    case 'STRUCT': return `STRUCT<${t.fields.map((f) => `${f.name} ${ddl(f.t)}`).join(', ')}>`;
    case 'DECIMAL': return `DECIMAL(${t.p},${t.sc})`;
    default: return t.k;
  }
}

const pad = (n, w) => String(n).padStart(w, '0');
function iso(us, zone) {
  const d = new Date(Math.floor(us / 1000));
  const frac = pad(((us % 1000000) + 1000000) % 1000000, 6);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T` +
    `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${frac}${zone ? 'Z' : ''}`;
}
const CHARS = ['a', 'b', 'Z', ' ', '"', '\\', '\n', 'é', '€', '😀', '0', ','];

// Values as JSON text, so decimals keep their scale.
function genValue(t, nullable) {
  if (nullable && rnd() < 0.2) return 'null';
  switch (t.k) {
    case 'BOOLEAN': return String(rnd() < 0.5);
    case 'TINYINT': return String(int(-128, 127));
    case 'SMALLINT': return String(int(-32768, 32767));
    case 'INT': return String(int(-2147483648, 2147483647));
    case 'BIGINT': return String(int(-(2 ** 53) + 1, 2 ** 53 - 1));
    case 'FLOAT': return String(int(-100000, 100000) / 4);
    case 'DOUBLE': return rnd() < 0.05 ? pick(['"NaN"', '"Infinity"', '"-Infinity"']) : JSON.stringify((rnd() - 0.5) * 10 ** int(-5, 12));
    case 'DECIMAL': {
      const ip = t.p - t.sc;
      let digits = '';
      for (let i = 0; i < int(0, Math.min(ip, 15)); i++) digits += int(0, 9);
      let frac = '';
      for (let i = 0; i < t.sc; i++) frac += int(0, 9);
      const mag = (digits.replace(/^0+/, '') || '0') + (t.sc ? '.' + frac : '');
      return (rnd() < 0.3 && /[1-9]/.test(mag) ? '-' : '') + mag;
    }
    case 'STRING': {
      let x = '';
      for (let i = 0; i < int(0, 8); i++) x += pick(CHARS);
      return JSON.stringify(x);
    }
    case 'BINARY': {
      const b = Buffer.alloc(int(0, 10));
      for (let i = 0; i < b.length; i++) b[i] = int(0, 255);
      return JSON.stringify(b.toString('base64'));
    }
    case 'DATE': return JSON.stringify(iso(int(-25567, 47482) * 86400000000, false).slice(0, 10));
    case 'TIMESTAMP': return JSON.stringify(iso(int(-2208988800, 4102444800) * 1000000 + int(0, 999999), true));
    case 'TIMESTAMP_NTZ': return JSON.stringify(iso(int(-2208988800, 4102444800) * 1000000 + int(0, 999999), false));
    case 'ARRAY': {
      const n = int(0, 3), xs = [];
      for (let i = 0; i < n; i++) xs.push(genValue(t.elem, true));
      return `[${xs.join(',')}]`;
    }
    case 'MAP': {
      const n = int(0, 3), seen = new Set(), xs = [];
      for (let i = 0; i < n; i++) {
        const k = t.key.k === 'INT' ? String(int(-50, 50)) : 'k' + int(0, 20);
        if (seen.has(k)) continue;
        seen.add(k);
        xs.push(`${JSON.stringify(k)}:${genValue(t.val, true)}`);
      }
      return `{${xs.join(',')}}`;
    }
    case 'STRUCT': return `{${t.fields.map((f) => `"${f.name}":${genValue(f.t, true)}`).join(',')}}`;
  }
}

const ncols = int(1, 6), cols = [];
for (let i = 0; i < ncols; i++) cols.push({ name: 'c' + i, t: genType(0), req: rnd() < 0.2 });
fs.writeFileSync(`${dir}/schema.ddl`, cols.map((c) => `${c.name} ${ddl(c.t)}${c.req ? ' NOT NULL' : ''}`).join(', ') + '\n');
const lines = [];
for (let r = 0; r < nrows; r++)
  lines.push(`{${cols.map((c) => `"${c.name}":${genValue(c.t, !c.req)}`).join(',')}}`);
fs.writeFileSync(`${dir}/rows.ndjson`, lines.join('\n') + '\n');
