import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cidrIndex,
  exactIndex,
  loadLookupTables,
  MAX_LOOKUP_TABLE_BYTES,
  parseCsv,
  tableFromCsv,
} from './table.js';

const dir = mkdtempSync(join(tmpdir(), 'lf-lookup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lookup tables', () => {
  it('parses RFC 4180 CSV: quotes, doubled quotes, quoted newlines, CRLF, a BOM, blank lines', () => {
    expect(parseCsv('\ufeffa,b\r\n"x, y","say ""hi"""\n\n"multi\nline",\n')).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"'],
      ['multi\nline', ''],
    ]);
  });

  it('exact keys are case-sensitive text, numbers match their decimal text; first row wins', () => {
    const t = tableFromCsv('t', 'code,desc\n404,Not Found\nE1,first\nE1,second\n');
    const find = exactIndex(t, [0]);
    expect(find([404])?.[1]).toBe('Not Found');
    expect(find(['E1'])?.[1]).toBe('first');
    expect(find(['e1'])).toBeUndefined();
    expect(find([null])).toBeUndefined();
  });

  it('CIDR rows that do not parse never match; a bare address is a /32', () => {
    const t = tableFromCsv(
      'n',
      'range,name\nnot-a-cidr,x\n192.168.1.7,host\n192.168.0.0/16,lan\n10.0.0.0/33,bad\n',
    );
    const find = cidrIndex(t, 0);
    expect(find('192.168.1.7')?.[1]).toBe('host');
    expect(find('192.168.9.9')?.[1]).toBe('lan');
    expect(find('10.1.1.1')).toBeUndefined();
    expect(find('garbage')).toBeUndefined();
  });

  it('loads name=file.csv, and reports every bad --lookup at once', async () => {
    const good = join(dir, 'users.csv');
    writeFileSync(good, 'id,name\nu1,Ana\n');
    writeFileSync(join(dir, 'dup.csv'), 'id,id\n');
    writeFileSync(join(dir, 'big.csv'), Buffer.alloc(MAX_LOOKUP_TABLE_BYTES + 1, 97));
    const tables = await loadLookupTables([`users=${good}`]);
    expect(tables.get('users')?.rows).toEqual([['u1', 'Ana']]);
    const err = await loadLookupTables([
      'no-equals-sign',
      'bad name=x.csv',
      `d=${join(dir, 'dup.csv')}`,
      `b=${join(dir, 'big.csv')}`,
      `m=${join(dir, 'missing.csv')}`,
      'h=https://example.com/x.csv',
    ]).catch((e: Error) => e.message);
    expect(String(err).split('\n')).toEqual([
      '--lookup no-equals-sign: expected name=file.csv (or name=s3://bucket/key.csv)',
      "--lookup bad name=x.csv: a table name has only letters, digits, '-' and '_' (as CloudWatch's lookup tables)",
      "lookup table d: the header names 'id' twice",
      expect.stringMatching(/^lookup table b: .* is 10485761 bytes; a lookup table is at most 10 MB/),
      expect.stringMatching(/^lookup table m: cannot read .*missing\.csv: ENOENT/),
      'https://example.com/x.csv: a lookup table is a local file or an s3:// URL',
    ]);
  });
});
