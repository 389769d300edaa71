import { describe, expect, it } from 'vitest';
import { Lexer, type Token } from './lexer.js';

function all(text: string, regexOk = false): Token[] {
  const lx = new Lexer(text);
  const out: Token[] = [];
  for (;;) {
    const t = lx.next(regexOk);
    out.push(t);
    if (t.kind === 'eof') break;
  }
  return out;
}

describe('lexer', () => {
  it('scans field names with @, dots, array indexes and backticks', () => {
    const toks = all('@timestamp user.extra.sessionName.0 users[1].action `a b`.c map.`special.char`');
    expect(toks.map((t) => [t.kind, t.value])).toEqual([
      ['ident', '@timestamp'],
      ['ident', 'user.extra.sessionName.0'],
      ['ident', 'users.1.action'],
      ['ident', 'a b.c'],
      ['ident', 'map.special.char'],
      ['eof', ''],
    ]);
    expect(toks[3].quoted).toBe(true);
  });

  it('keeps hyphens out of names (a-b is a subtraction, as in Logs Insights)', () => {
    expect(all('a-b').map((t) => t.value)).toEqual(['a', '-', 'b', '']);
  });

  it('scans strings in both quotes with escapes', () => {
    const toks = all(`"a\\"b" 'it\\'s' "tab\\there" "C:\\path"`);
    expect(toks.slice(0, 4).map((t) => t.value)).toEqual(['a"b', "it's", 'tab\there', 'C:\\path']);
  });

  it('scans numbers and time periods', () => {
    const toks = all('42 3.5 .5 1e3 5m 100ms 1h 2days 1mo 1q 1y');
    expect(toks.map((t) => t.kind)).toEqual([
      'number',
      'number',
      'number',
      'number',
      'duration',
      'duration',
      'duration',
      'duration',
      'duration',
      'duration',
      'duration',
      'eof',
    ]);
    expect(toks[3].num).toBe(1000);
    expect(toks.slice(4, 11).map((t) => t.unit)).toEqual(['m', 'ms', 'h', 'd', 'mo', 'q', 'y']);
  });

  it('accepts every documented unit spelling, plurals included', () => {
    const units =
      'ms msec msecs millisecond milliseconds s sec secs second seconds m min mins minute minutes h hr hrs hour hours d day days w week weeks mo mon mons month months q qtr qtrs quarter quarters y yr yrs year years';
    const lx = new Lexer(
      units
        .split(' ')
        .map((u) => `2${u}`)
        .join(' '),
    );
    const got: string[] = [];
    for (let t = lx.next(false); t.kind !== 'eof'; t = lx.next(false)) got.push(`${t.kind}:${t.unit}`);
    expect(lx.problems).toEqual([]);
    expect(new Set(got)).toEqual(
      new Set(['ms', 's', 'm', 'h', 'd', 'w', 'mo', 'q', 'y'].map((u) => `duration:${u}`)),
    );
    expect(got.length).toBe(units.split(' ').length);
  });

  it('reports a zero time period (bin(0m) would give every event its own bucket)', () => {
    for (const text of ['0m', '0.0h', '0ms']) {
      const lx = new Lexer(text);
      lx.next(false);
      expect(lx.problems[0]?.message, text).toMatch(/time period must be greater than zero/);
    }
    const ok = new Lexer('0.5h');
    ok.next(false);
    expect(ok.problems).toEqual([]);
  });

  it('reports an unknown time unit', () => {
    const lx = new Lexer('5parsecs');
    lx.next(false);
    expect(lx.problems[0].message).toMatch(/unknown time unit 'parsecs'/);
  });

  it('scans operators, normalising == to = and <> to !=', () => {
    expect(all('= == != < <= > >= =~ <> + - * / ^ % , ( ) [ ] |').map((t) => t.value)).toEqual([
      '=',
      '=',
      '!=',
      '<',
      '<=',
      '>',
      '>=',
      '=~',
      '!=',
      '+',
      '-',
      '*',
      '/',
      '^',
      '%',
      ',',
      '(',
      ')',
      '[',
      ']',
      '|',
      '',
    ]);
  });

  it('scans a regex only when the parser allows it, with escaped slashes, classes and flags', () => {
    const t = new Lexer('/ecs\\/a[/]b/i rest').next(true);
    expect(t).toMatchObject({ kind: 'regex', value: 'ecs\\/a[/]b', flags: 'i' });
    expect(new Lexer('/x/').next(false)).toMatchObject({ kind: 'op', value: '/' });
  });

  it('skips # comments to the end of the line', () => {
    expect(all('a # | filter b\n| c').map((t) => t.value)).toEqual(['a', '|', 'c', '']);
  });

  it('tracks 1-based line and column', () => {
    const toks = all('fields a\n  | filter  b');
    const b = toks.find((t) => t.value === 'b')!;
    expect(b.start).toEqual({ line: 2, column: 13, offset: 21 });
  });

  it('collects problems instead of throwing', () => {
    const lx = new Lexer('"open');
    expect(lx.next(false).kind).toBe('string');
    expect(lx.problems[0].message).toMatch(/unterminated string/);
    const lx2 = new Lexer('a ; b');
    lx2.next(false);
    expect(lx2.next(false).value).toBe('b');
    expect(lx2.problems[0]).toMatchObject({ pos: { column: 3 }, message: "unexpected character ';'" });
  });

  it('reads @`aws.tag.…` as one field name (the form AWS uses for tag fields)', () => {
    // Regression: the backtick after @ started a second name, so the query was refused.
    const t = all('@`aws.tag.team` = x');
    expect(t[0]).toMatchObject({ kind: 'ident', value: '@aws.tag.team', quoted: true });
    expect(t[1]).toMatchObject({ kind: 'op', value: '=' });
  });
});
