import { describe, expect, it } from 'vitest';
import { isLogferryError, type LogferryError } from '../core/errors.js';
import type { BinaryExpr, CallExpr, FieldRef, FilterCommand, ParseCommand, StatsCommand } from './ast.js';
import { parseQuery } from './parser.js';

function problemsOf(q: string): { line: number; column: number; message: string }[] {
  try {
    parseQuery(q);
  } catch (e) {
    expect(isLogferryError(e, 'QUERY_SYNTAX')).toBe(true);
    return (e as LogferryError).details!.problems as { line: number; column: number; message: string }[];
  }
  throw new Error(`expected a syntax error for: ${q}`);
}

function filterExpr(q: string) {
  return (parseQuery(q).commands[0] as FilterCommand).expr;
}

describe('parseQuery: commands', () => {
  it('parses every command with case-insensitive keywords', () => {
    const ast = parseQuery(
      'FIELDS a, b AS c | Display a | filter x = 1 | STATS count(*) BY y | sort a ASC, b DESC | limit 5 | ' +
        "parse @message 'k=*' as k | unmask(@message) | unnest list into item | dedup a, b",
    );
    expect(ast.commands.map((c) => c.kind)).toEqual([
      'fields',
      'display',
      'filter',
      'stats',
      'sort',
      'limit',
      'parse',
      'unmask',
      'unnest',
      'dedup',
    ]);
  });

  it('names projections by alias, field name or source text', () => {
    const ast = parseQuery(
      'fields a.b, concat(x, "-", y) as c, strlen( x ) | stats count(*), avg(d) as m by bin(5m)',
    );
    const f = ast.commands[0];
    expect(f.kind === 'fields' && f.items.map((i) => i.name)).toEqual(['a.b', 'c', 'strlen( x )']);
    const s = ast.commands[1] as StatsCommand;
    expect(s.aggregates.map((a) => a.name)).toEqual(['count(*)', 'm']);
    expect(s.by.map((a) => a.name)).toEqual(['bin(5m)']);
    expect((s.by[0].expr as CallExpr).args[0]).toMatchObject({
      kind: 'duration',
      amount: 5,
      unit: 'm',
      ms: 300000,
    });
  });

  it('parses sort defaults to ascending', () => {
    const c = parseQuery('sort a, b desc').commands[0];
    expect(c.kind === 'sort' && c.keys.map((k) => k.direction)).toEqual(['asc', 'desc']);
  });

  it('parses glob and regex parse commands (source defaults to @message)', () => {
    const g = parseQuery("parse '[*] *' as level, msg").commands[0] as ParseCommand;
    expect(g).toMatchObject({
      source: { name: '@message' },
      pattern: { kind: 'glob', text: '[*] *' },
      names: ['level', 'msg'],
    });
    const r = parseQuery('parse log /(?<user>\\w+)@(?<host>\\S+)/').commands[0] as ParseCommand;
    expect(r).toMatchObject({ source: { name: 'log' }, pattern: { kind: 'regex' }, names: ['user', 'host'] });
  });

  it('keeps source spans on commands and expressions', () => {
    const ast = parseQuery('fields a\n| filter verb == "get"');
    const f = ast.commands[1] as FilterCommand;
    expect(f.span.start).toEqual({ line: 2, column: 3, offset: 11 });
    const left = (f.expr as BinaryExpr).left as FieldRef;
    expect(left.span).toEqual({
      start: { line: 2, column: 10, offset: 18 },
      end: { line: 2, column: 14, offset: 22 },
    });
    expect(ast.text).toBe('fields a\n| filter verb == "get"');
  });
});

describe('parseQuery: expressions', () => {
  it('gives and lower precedence than comparison, or lower than and', () => {
    const e = filterExpr('filter a = 1 or b = 2 and c = 3') as BinaryExpr;
    expect(e.op).toBe('or');
    expect((e.right as BinaryExpr).op).toBe('and');
  });

  it('gives * precedence over +, ^ over unary minus and is right-associative', () => {
    const e = filterExpr('filter x = 1 + 2 * 3') as BinaryExpr;
    expect((e.right as BinaryExpr).op).toBe('+');
    expect(((e.right as BinaryExpr).right as BinaryExpr).op).toBe('*');
    const p = filterExpr('filter x = 2 ^ 3 ^ 2') as BinaryExpr;
    const pow = p.right as BinaryExpr;
    expect(pow.op).toBe('^');
    expect((pow.right as BinaryExpr).op).toBe('^');
  });

  it('parses not like, not in, =~, == and lists', () => {
    expect((filterExpr('filter a not like /x/') as BinaryExpr).op).toBe('not like');
    const notIn = filterExpr('filter verb not in ["list", "watch"]') as BinaryExpr;
    expect(notIn.op).toBe('not in');
    expect(notIn.right).toMatchObject({ kind: 'list', items: [{ value: 'list' }, { value: 'watch' }] });
    expect((filterExpr('filter a =~ /x/i') as BinaryExpr).right).toMatchObject({
      kind: 'regex',
      source: 'x',
      flags: 'i',
    });
    expect((filterExpr('filter a == "x"') as BinaryExpr).op).toBe('=');
  });

  it('tells division from a regex by position', () => {
    const e = filterExpr('filter a / 2 > 1') as BinaryExpr;
    expect((e.left as BinaryExpr).op).toBe('/');
    expect((filterExpr('filter a like /b/') as BinaryExpr).right.kind).toBe('regex');
  });

  it('parses prefix not, negative numbers, booleans, null and count(*)', () => {
    expect(filterExpr('filter not ispresent(x)')).toMatchObject({ kind: 'unary', op: 'not' });
    expect((filterExpr('filter x > -5') as BinaryExpr).right).toMatchObject({ kind: 'number', value: -5 });
    expect((filterExpr('filter x = TRUE') as BinaryExpr).right).toMatchObject({
      kind: 'boolean',
      value: true,
    });
    expect((filterExpr('filter x = null') as BinaryExpr).right.kind).toBe('null');
    const s = parseQuery('stats count(*)').commands[0] as StatsCommand;
    expect(s.aggregates[0].expr).toMatchObject({ kind: 'call', name: 'count', star: true, args: [] });
  });
});

describe('parseQuery: errors', () => {
  it('reports every problem at once with line, column and a caret snippet', () => {
    const q = 'fields a\n| filter (b = 1\n| sort\n| limit 0\n| stat count(*)';
    try {
      parseQuery(q);
      expect.unreachable();
    } catch (e) {
      const err = e as LogferryError;
      expect(err.code).toBe('QUERY_SYNTAX');
      const problems = err.details!.problems as { line: number; column: number; message: string }[];
      expect(problems.map((p) => [p.line, p.column])).toEqual([
        [2, 16],
        [3, 7],
        [4, 9],
        [5, 3],
      ]);
      expect(problems[3].message).toBe("unknown command 'stat' (did you mean 'stats'?)");
      expect(err.message).toContain(
        "line 5, column 3: unknown command 'stat' (did you mean 'stats'?)\n  | stat count(*)\n    ^",
      );
      expect(err.message.startsWith('Query has 4 problems:\n')).toBe(true);
    }
  });

  it.each([
    ['', 1, 1, 'the query is empty'],
    ['fields a |', 1, 11, "expected a command after '|'"],
    ['| fields a', 1, 1, "expected a command before '|'"],
    ['filter a like "x', 1, 15, 'unterminated string'],
    ['filter a like /x', 1, 15, 'unterminated regular expression'],
    ['filter a like /(x/', 1, 15, 'invalid regular expression'],
    ['filter a like /x/g', 1, 15, "unsupported regex flag 'g'"],
    ['filter a =~ "(x"', 1, 13, 'invalid regular expression'],
    ['filter a = 1 = 2', 1, 14, 'comparisons cannot be chained'],
    ['filter a not b', 1, 10, "expected 'like' or 'in' after 'not'"],
    ['filter a in "x"', 1, 13, "expected '[' to open the list"],
    ['filter a = ', 1, 11, 'expected a value'],
    ['filter a like b', 1, 15, 'found the field name'],
    ['filter strln(a) = 1', 1, 8, "unknown function 'strln' (did you mean 'strlen'?)"],
    ['filter strlen(a, b) = 1', 1, 8, 'strlen() takes 1 argument(s), got 2'],
    ['filter count(*) > 1', 1, 8, 'can only be used in stats'],
    ['fields sum(x)', 1, 8, 'can only be used in stats'],
    ['stats x by y', 1, 7, "'x' must be inside an aggregate"],
    ['stats sum(count(*))', 1, 11, 'aggregates cannot be nested'],
    ['stats strlen(x)', 1, 7, 'stats expects an aggregate function'],
    ['stats count(*) by', 1, 18, 'stats … by expects a field or expression'],
    ['stats count(*) by bin(5)', 1, 19, 'bin() expects a time period'],
    ['stats pct(x, 200)', 1, 7, 'pct() expects a percentile between 0 and 100'],
    ['fields datefloor(@timestamp, 3)', 1, 8, 'datefloor() expects a time period'],
    [
      'fields dateceil(@timestamp, 3)',
      1,
      8,
      'dateceil() expects a time period such as 5m, 1h or 1d as its second argument',
    ],
    ['stats avg(*)', 1, 7, "only count accepts '*'"],
    ['limit 1.5', 1, 7, 'limit expects a positive whole number'],
    ['limit x', 1, 7, 'limit expects a positive whole number'],
    ["parse @message 'a=*'", 1, 21, "expected 'as'"],
    ["parse @message 'a=* b=*' as a", 1, 16, "has 2 '*' but 1 name(s)"],
    ["parse @message 'plain' as a", 1, 16, "needs at least one '*'"],
    ['parse @message /(\\w+)/', 1, 16, 'needs named groups'],
    ['parse @message 42', 1, 16, 'parse expects a glob string, a /regex/, logfmt or csv'],
    ['SOURCE logGroups()', 1, 1, 'needs namePrefix'],
    ['pattern', 1, 8, 'pattern expects a field or string expression'],
    ['dedup', 1, 6, 'dedup expects a field name'],
    ['unnest a as b', 1, 10, "expected 'into'"],
    ['fields a b', 1, 10, 'unexpected'],
    ['fields `a', 1, 8, 'unterminated backtick'],
    ['stats count(*) by bin(5parsecs)', 1, 23, "unknown time unit 'parsecs'"],
    ['filter a = 1 and', 1, 17, 'expected a value'],
    ['filter and = 1', 1, 8, "found the keyword 'and'"],
    ['sort', 1, 5, 'expected a value'],
    ['filter count(* , 1)', 1, 14, "'*' is only allowed alone"],
  ])('%j → line %i, column %i: %s', (q, line, column, msg) => {
    const ps = problemsOf(q);
    const p = ps.find((x) => x.message.includes(msg));
    expect(p, JSON.stringify(ps)).toBeDefined();
    expect([p!.line, p!.column]).toEqual([line, column]);
  });

  it('recovers after a bad command and keeps finding problems in later ones', () => {
    const ps = problemsOf('filter ( | fields strln(x) | bogus | stats x');
    expect(ps.map((p) => p.column)).toEqual([9, 19, 30, 44]);
  });

  it('refuses absurdly deep nesting with a problem instead of overflowing the stack', () => {
    const ps = problemsOf(`filter ${'('.repeat(5000)}a = 1${')'.repeat(5000)}`);
    expect(ps[0].message).toMatch(/nested more than 256 levels/);
    expect(problemsOf(`filter ${'not '.repeat(5000)}a = 1`)[0].message).toMatch(/nested more than/);
    expect(problemsOf(`fields ${'-'.repeat(5000)}a`)[0].message).toMatch(/nested more than/);
    expect(problemsOf(`fields a${' ^ a'.repeat(5000)}`)[0].message).toMatch(/nested more than/);
    expect(problemsOf(`fields ${'['.repeat(5000)}`)[0].message).toMatch(/nested more than/);
    expect(parseQuery(`filter ${'('.repeat(100)}a = 1${')'.repeat(100)}`).commands.length).toBe(1);
  });

  it('renders tabs as spaces so the caret lines up', () => {
    try {
      parseQuery('fields a\n\t| oops');
    } catch (e) {
      expect((e as Error).message).toContain('  ^');
      expect((e as Error).message).toContain('line 2, column 4:');
    }
  });
});

describe('parseQuery: the seed library parses', () => {
  const seeds = [
    `filter @logStream like /^authenticator/
    | fields @logStream, @timestamp, @message
    | sort @timestamp desc
    | filter @message like "access denied"
    | limit 50`,
    `fields @timestamp, @message
  | filter @logStream like /^cloud-controller-manager/
  | filter @message like ""
  | sort @timestamp desc`,
    `fields @timestamp, verb, user.username, objectRef.resource, objectRef.namespace, objectRef.name , responseObject.code, @message
| filter @logStream like /^kube-apiserver-audit/
# | filter user.username like "kube-controller"
| filter objectRef.resource == "replicasets"
|filter verb not in ["watch", "list", "get"]
| filter objectRef.name  = "aws-node"
| sort @timestamp desc`,
    `fields @logStream, @timestamp, @message
  | filter @logStream like /ecs\\/awssdk-iam-dev\\/ef7512c63ef2498880ecf78fd8f9ed11/
  | sort @timestamp desc`,
    `fields @logStream, @timestamp, @message
  | filter @logStream like /^ecs\\/nginx*/
  | sort @timestamp desc`,
    `fields @timestamp, responseObject.spec.targetCPUUtilizationPercentage, responseObject.status.currentCPUUtilizationPercentage
    | filter @logStream like /audit/
    | filter requestURI like '/apis/autoscaling/v1/namespaces/test-namespace/horizontalpodautoscalers/test-hpa/status'
    | sort @timestamp asc`,
  ];
  it.each(seeds)('%s', (q) => {
    expect(parseQuery(q).commands.length).toBeGreaterThan(1);
  });
});
