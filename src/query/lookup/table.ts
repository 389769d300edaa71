/**
 * Lookup tables for `lookup` and `cidrlookup`: CSV files the user names with
 * `--lookup name=file.csv` (a local path or an `s3://bucket/key` URL read with the S3 client the
 * archive reader uses). As CloudWatch's lookup tables (CWL_QuerySyntax-Lookup): a header row with the
 * column names, UTF-8, at most 10 MB; names are letters, digits, `-` and `_`. RFC 4180 quoting
 * (`"a, b"`, `""` inside quotes, quoted newlines). Exact lookups index the key columns in a Map
 * (first row wins for a repeated key); CIDR lookups index each prefix length and take the most
 * specific (longest) matching range.
 */
import { readFile, stat } from 'node:fs/promises';
import { fileKind } from '../../core/file-kind.js';
import { LogferryError } from '../../core/errors.js';
import { v4Bytes, v6Bytes } from '../functions/ip.js';
import { isMissing, toStr } from '../values.js';

/** CloudWatch caps a lookup table's CSV at 10 MB (CWL_QuerySyntax-Lookup, CreateLookupTable). */
export const MAX_LOOKUP_TABLE_BYTES = 10 * 1024 * 1024;

/** Lookup table names: "alphanumeric characters, hyphens, and underscores". */
const TABLE_NAME = /^[A-Za-z0-9_-]+$/;

export interface LookupTable {
  name: string;
  columns: string[];
  rows: string[][];
}

/** Parses RFC 4180 CSV text (any of \n, \r\n line ends; quoted fields may hold newlines). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  const n = text.length;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  while (i < n) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === '') {
      quoted = true;
      i++;
    } else if (ch === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (ch === '\n' || ch === '\r') {
      row.push(field);
      field = '';
      rows.push(row);
      row = [];
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
    } else {
      field += ch;
      i++;
    }
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  // Blank lines are no rows.
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

/** A table from CSV text: the first row names the columns. */
export function tableFromCsv(name: string, text: string): LookupTable {
  const all = parseCsv(text);
  if (all.length === 0)
    throw new LogferryError(
      'CONFIG_INVALID',
      `lookup table ${name}: the CSV is empty (it needs a header row)`,
    );
  const columns = all[0].map((c) => c.trim());
  const seen = new Set<string>();
  for (const c of columns) {
    if (c === '')
      throw new LogferryError('CONFIG_INVALID', `lookup table ${name}: the header has an empty column name`);
    if (seen.has(c))
      throw new LogferryError('CONFIG_INVALID', `lookup table ${name}: the header names '${c}' twice`);
    seen.add(c);
  }
  return { name, columns, rows: all.slice(1) };
}

/** `name=path-or-s3-url` as given to `--lookup`. */
export function parseLookupArg(arg: string): { name: string; location: string } {
  const eq = arg.indexOf('=');
  const name = eq > 0 ? arg.slice(0, eq) : '';
  const location = eq > 0 ? arg.slice(eq + 1) : '';
  if (!name || !location)
    throw new LogferryError(
      'CONFIG_INVALID',
      `--lookup ${arg}: expected name=file.csv (or name=s3://bucket/key.csv)`,
    );
  if (!TABLE_NAME.test(name))
    throw new LogferryError(
      'CONFIG_INVALID',
      `--lookup ${arg}: a table name has only letters, digits, '-' and '_' (as CloudWatch's lookup tables)`,
    );
  return { name, location };
}

async function readLocation(location: string, signal?: AbortSignal): Promise<Uint8Array> {
  const s3 = /^s3:\/\/([^/]+)\/(.+)$/i.exec(location);
  if (s3) {
    const [{ GetObjectCommand, S3Client }, { clientConfig }] = await Promise.all([
      import('@aws-sdk/client-s3'),
      import('../../aws/clients.js'),
    ]);
    const client = new S3Client({ ...clientConfig('s3') });
    try {
      const res = await client.send(new GetObjectCommand({ Bucket: s3[1], Key: s3[2] }), {
        abortSignal: signal,
      });
      if (res.ContentLength !== undefined && res.ContentLength > MAX_LOOKUP_TABLE_BYTES)
        return new Uint8Array(res.ContentLength);
      return res.Body ? await res.Body.transformToByteArray() : new Uint8Array();
    } finally {
      client.destroy();
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !/^file:\/\//i.test(location))
    throw new LogferryError('CONFIG_INVALID', `${location}: a lookup table is a local file or an s3:// URL`);
  const path = location.replace(/^file:\/\//i, '');
  // A device or FIFO would be read (or waited on) forever; an oversized file is refused unread.
  const st = await stat(path);
  if (!st.isFile()) throw new Error(`it is ${fileKind(st)}, not a file`);
  if (st.size > MAX_LOOKUP_TABLE_BYTES)
    throw new Error(`it is ${st.size} bytes; a lookup table is at most 10 MB (as in CloudWatch)`);
  return readFile(path);
}

/** Reads and parses the named tables; every problem is reported together. */
export async function loadLookupTables(
  args: readonly string[],
  signal?: AbortSignal,
): Promise<Map<string, LookupTable>> {
  const out = new Map<string, LookupTable>();
  const problems: string[] = [];
  for (const arg of args) {
    try {
      const { name, location } = parseLookupArg(arg);
      if (out.has(name))
        throw new LogferryError('CONFIG_INVALID', `--lookup names the table '${name}' twice`);
      let bytes: Uint8Array;
      try {
        bytes = await readLocation(location, signal);
      } catch (e) {
        if (e instanceof LogferryError) throw e;
        throw new LogferryError(
          'CONFIG_INVALID',
          `lookup table ${name}: cannot read ${location}: ${(e as Error).message}`,
        );
      }
      if (bytes.byteLength > MAX_LOOKUP_TABLE_BYTES)
        throw new LogferryError(
          'CONFIG_INVALID',
          `lookup table ${name}: ${location} is ${bytes.byteLength} bytes; a lookup table is at most 10 MB (as in CloudWatch)`,
        );
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        throw new LogferryError('CONFIG_INVALID', `lookup table ${name}: ${location} is not UTF-8 text`);
      }
      out.set(name, tableFromCsv(name, text));
    } catch (e) {
      if (!(e instanceof LogferryError)) throw e;
      problems.push(e.message);
    }
  }
  if (problems.length) throw new LogferryError('CONFIG_INVALID', problems.join('\n'));
  return out;
}

// ------------------------------------------------------------------ indexes

/** Exact match on one or more key columns (case-sensitive text; numbers as their decimal text). */
export function exactIndex(
  table: LookupTable,
  keyColumns: number[],
): (values: unknown[]) => string[] | undefined {
  const map = new Map<string, string[]>();
  for (const r of table.rows) {
    const k = keyColumns.map((i) => r[i] ?? '').join('\u0000');
    if (!map.has(k)) map.set(k, r);
  }
  return (values) => {
    let k = '';
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (isMissing(v)) return undefined;
      k += (i ? '\u0000' : '') + toStr(v);
    }
    return map.get(k);
  };
}

function maskKey(bytes: number[], prefix: number): string {
  let k = '';
  const full = prefix >> 3;
  for (let i = 0; i < full; i++) k += String.fromCharCode(bytes[i]);
  const rest = prefix & 7;
  if (rest) k += String.fromCharCode(bytes[full] & ((0xff << (8 - rest)) & 0xff));
  return k;
}

/**
 * Longest-prefix match of an IP against the table's CIDR column (`a.b.c.d/n`, `x::/n`; a bare
 * address is /32 or /128). Rows whose range does not parse never match.
 */
export function cidrIndex(table: LookupTable, column: number): (ip: unknown) => string[] | undefined {
  const families = {
    4: new Map<number, Map<string, string[]>>(),
    6: new Map<number, Map<string, string[]>>(),
  };
  for (const r of table.rows) {
    const cell = (r[column] ?? '').trim();
    const slash = cell.indexOf('/');
    const addr = slash >= 0 ? cell.slice(0, slash) : cell;
    const v4 = v4Bytes(addr);
    const bytes = v4 ?? v6Bytes(addr);
    if (!bytes) continue;
    const fam = v4 ? 4 : 6;
    const max = fam === 4 ? 32 : 128;
    const prefix = slash >= 0 ? Number(cell.slice(slash + 1)) : max;
    if (!/^\d+$/.test(slash >= 0 ? cell.slice(slash + 1) : '0') || prefix > max) continue;
    let byLen = families[fam].get(prefix);
    if (!byLen) {
      byLen = new Map();
      families[fam].set(prefix, byLen);
    }
    const k = maskKey(bytes, prefix);
    if (!byLen.has(k)) byLen.set(k, r);
  }
  const order = {
    4: [...families[4].keys()].sort((a, b) => b - a),
    6: [...families[6].keys()].sort((a, b) => b - a),
  };
  return (ip) => {
    if (isMissing(ip)) return undefined;
    const s = toStr(ip).trim();
    const v4 = v4Bytes(s);
    let bytes = v4;
    let fam: 4 | 6 = 4;
    if (!bytes) {
      const v6 = v6Bytes(s);
      if (!v6) return undefined;
      // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) matches IPv4 ranges.
      if (v6.slice(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff) bytes = v6.slice(12);
      else {
        bytes = v6;
        fam = 6;
      }
    }
    for (const len of order[fam]) {
      const hit = families[fam].get(len)?.get(maskKey(bytes, len));
      if (hit) return hit;
    }
    return undefined;
  };
}
