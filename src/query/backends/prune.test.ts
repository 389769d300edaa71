import { describe, expect, it } from 'vitest';
import type { Expr, FilterCommand } from '../ast.js';
import { parseQuery } from '../index.js';
import { parseObjectKey } from './partition-path.js';
import { keyTruth, lineRequirement, linePasses, mayMatch, regexLiteralPrefix } from './prune.js';

function filters(q: string): Expr[] {
  return parseQuery(q)
    .commands.filter((c): c is FilterCommand => c.kind === 'filter')
    .map((c) => c.expr);
}
const AUDIT = parseObjectKey(
  '_aws_eks_prod_cluster/kube-apiserver-audit/kube-apiserver-audit-4e9f9d6f9d15381d05d77c5df3f7d329/a.gz',
);
const API = parseObjectKey(
  '_aws_eks_prod_cluster/kube-apiserver/kube-apiserver-934e06efeb2e9416b02fa19f9a2d1774/a.gz',
);
const HIVE_API = parseObjectKey('component=kube-apiserver/dt=2026-11-22/hour=07/a.gz');
const HIVE_AUDIT = parseObjectKey('component=kube-apiserver-audit/dt=2026-11-22/hour=07/a.gz');
const DEFAULT = parseObjectKey('default/a.gz');

describe('regexLiteralPrefix', () => {
  const re = (source: string, flags = '') => ({
    kind: 'regex' as const,
    source,
    flags,
    span: undefined as never,
  });
  it('extracts the literal run, anchoring, and whether the regex is only that literal', () => {
    expect(regexLiteralPrefix(re('^kube-apiserver-audit'))).toEqual({
      lit: 'kube-apiserver-audit',
      anchored: true,
      whole: true,
    });
    expect(regexLiteralPrefix(re('ecs\\/awssdk-iam-dev\\/ef75'))).toEqual({
      lit: 'ecs/awssdk-iam-dev/ef75',
      anchored: false,
      whole: true,
    });
    expect(regexLiteralPrefix(re('^ecs\\/nginx*'))).toEqual({
      lit: 'ecs/ngin',
      anchored: true,
      whole: false,
    });
    expect(regexLiteralPrefix(re('^kube-apiserver-.*'))?.lit).toBe('kube-apiserver-');
    expect(regexLiteralPrefix(re('^\\d+x'))?.lit).toBe('');
    expect(regexLiteralPrefix(re('a|b'))).toBeUndefined();
    expect(regexLiteralPrefix(re('abc', 'i'))).toBeUndefined();
  });
});

describe('key pruning', () => {
  it('decides @logStream filters on an exact stream from the key', () => {
    const [f] = filters('filter @logStream like /^kube-apiserver-audit/');
    expect(keyTruth(f, AUDIT)).toBe(true);
    expect(keyTruth(f, API)).toBe(false);
    expect(keyTruth(f, DEFAULT)).toBeUndefined();
  });
  it('decides anchored prefixes on a component-only (Hive) key, and their negation', () => {
    const [like] = filters('filter @logStream like /^kube-apiserver-audit/');
    const [notLike] = filters('filter @logStream not like /^kube-apiserver-audit/');
    expect(keyTruth(like, HIVE_API)).toBe(false);
    expect(keyTruth(like, HIVE_AUDIT)).toBe(true);
    expect(keyTruth(notLike, HIVE_AUDIT)).toBe(false);
    // a stream classified kube-apiserver never starts with kube-apiserver-audit (tested first)
    expect(keyTruth(notLike, HIVE_API)).toBe(true);
    const [other] = filters('filter @logStream like /^kube-apiserver-9/');
    expect(keyTruth(other, HIVE_API)).toBeUndefined();
    const [authn] = filters('filter @logStream like /^authenticator/');
    expect(keyTruth(authn, HIVE_API)).toBe(false);
  });
  it('uses three-valued logic for and/or/not and leaves other fields unknown', () => {
    const [f] = filters('filter @logStream like "kube-apiserver-audit" and verb = "delete"');
    expect(keyTruth(f, API)).toBe(false);
    expect(keyTruth(f, AUDIT)).toBeUndefined();
    const [g] = filters('filter @logStream like /^authenticator/ or verb = "delete"');
    expect(keyTruth(g, API)).toBeUndefined();
    const [h] = filters('filter not (@logStream like /^kube-apiserver-audit/)');
    expect(keyTruth(h, AUDIT)).toBe(false);
  });
  it('reads @log filters against the key group (archived @log is owner:group)', () => {
    const [f] = filters('filter @log like "/aws/eks/prod/cluster"');
    const [g] = filters('filter @log like "/aws/eks/staging/cluster"');
    const [h] = filters('filter @log like "123456789012"');
    expect(keyTruth(f, AUDIT)).toBe(true);
    expect(keyTruth(g, AUDIT)).toBe(false);
    expect(keyTruth(h, AUDIT)).toBeUndefined();
  });
  it('prunes by SOURCE: names and logGroups(namePrefix) against the key group', () => {
    const [name] = filters("SOURCE '/aws/eks/prod/cluster'");
    const [other] = filters("SOURCE '/aws/eks/staging/cluster', '/aws/lambda/x'");
    const [prefix] = filters("SOURCE logGroups(namePrefix: ['/aws/eks/pr'])");
    const [otherPrefix] = filters("SOURCE logGroups(namePrefix: ['/aws/lambda/'])");
    expect(keyTruth(name, AUDIT)).toBe(true);
    expect(keyTruth(other, AUDIT)).toBe(false);
    expect(keyTruth(prefix, AUDIT)).toBe(true);
    expect(keyTruth(otherPrefix, AUDIT)).toBe(false);
    expect(mayMatch(AUDIT, [otherPrefix], {}, -1)).toBe(false);
    // Without a group in the key nothing is decided.
    expect(keyTruth(name, DEFAULT)).toBeUndefined();
    // A user's own @log regex with ':' after the owner part is not decided from the group alone.
    const [owned] = filters('filter @log like /^(?:[^:]*:)?123:\\/aws/');
    expect(keyTruth(owned, AUDIT)).toBeUndefined();
  });
  it('prunes by key time with slack', () => {
    const info = parseObjectKey('dt=2026-11-22/hour=07/a.gz');
    const h = 3_600_000;
    expect(mayMatch(info, [], { startMs: Date.UTC(2026, 10, 22, 9) }, h)).toBe(false);
    expect(mayMatch(info, [], { startMs: Date.UTC(2026, 10, 22, 8, 30) }, h)).toBe(true);
    expect(mayMatch(info, [], { endMs: Date.UTC(2026, 10, 22, 5) }, h)).toBe(false);
    expect(mayMatch(info, [], { startMs: Date.UTC(2026, 10, 22, 9) }, -1)).toBe(true);
  });
});

describe('line pre-check', () => {
  it('derives required literals from the seed aws-auth query', () => {
    const req = lineRequirement(
      filters(`fields @timestamp
        | filter @logStream like /^kube-apiserver-audit/
        | filter objectRef.resource == "configmaps"
        | filter objectRef.name == "aws-auth"
        | filter verb not in ["watch", "list", "get"]`),
    );
    // @logStream may come from the key (raw objects): not required in the line.
    expect(req).toEqual([['configmaps'], ['aws-auth']]);
  });
  it('turns in-lists and or into any-of clauses and skips what is not a literal requirement', () => {
    expect(lineRequirement(filters('filter verb in ["delete", "patch"]'))).toEqual([['delete', 'patch']]);
    expect(
      lineRequirement(filters('filter @message like "access denied" or @message like "forbidden"')),
    ).toEqual([['access denied', 'forbidden']]);
    expect(lineRequirement(filters('filter responseStatus.code = "403"'))).toEqual([]); // numeric-looking
    expect(lineRequirement(filters('filter @message like /Error/i'))).toEqual([]);
    expect(lineRequirement(filters('filter not (verb = "delete")'))).toEqual([]);
    expect(lineRequirement(filters('filter @message like "say \\"hi\\""'))).toEqual([]);
    expect(lineRequirement(filters('filter @duration > 100'))).toEqual([]);
  });
  it('passes a line with the literals, or with escapes that could spell them', () => {
    const req = [['aws-auth'], ['configmaps']];
    expect(linePasses('{"objectRef":{"resource":"configmaps","name":"aws-auth"}}', req)).toBe(true);
    expect(linePasses('{"objectRef":{"resource":"configmaps","name":"coredns"}}', req)).toBe(false);
    expect(linePasses('{"objectRef":{"resource":"configmaps","name":"aws\\u002dauth"}}', req)).toBe(true);
    expect(linePasses('{"requestURI":"\\/api\\/v1"}', [['/api/v1']])).toBe(true);
  });
});

describe('partition fields', () => {
  const LAMBDA = parseObjectKey('component=lambda/dt=2026-11-22/a.gz');
  const ECS = parseObjectKey('component=ecs/dt=2026-11-22/a.gz');
  it('decides filters on Hive partition fields from the key', () => {
    const f = (q: string) => filters(q)[0];
    expect(keyTruth(f('filter component = "lambda"'), LAMBDA)).toBe(true);
    expect(keyTruth(f('filter component = "lambda"'), ECS)).toBe(false);
    expect(keyTruth(f('filter component != "lambda"'), ECS)).toBe(true);
    expect(keyTruth(f('filter component in ["ecs", "lambda"]'), ECS)).toBe(true);
    expect(keyTruth(f('filter component like /^lam/'), ECS)).toBe(false);
    expect(keyTruth(f('filter component = "lambda"'), DEFAULT)).toBeUndefined();
    expect(mayMatch(ECS, filters('filter component = "lambda"'), {}, 0)).toBe(false);
    expect(mayMatch(LAMBDA, filters('filter component = "lambda"'), {}, 0)).toBe(true);
  });
  it("prunes by the default layout's component and EKS cluster as by Hive keys", () => {
    const f = (q: string) => filters(q);
    const lambda = parseObjectKey('_aws_lambda_orders/lambda/2026_11_22_[$LATEST]0123abcd/x.gz');
    const audit = parseObjectKey(
      '_aws_eks_prod_cluster/kube-apiserver-audit/kube-apiserver-audit-4e9f9d6f9d15381d05d77c5df3f7d329/x.gz',
    );
    expect(mayMatch(lambda, f('filter component = "lambda"'), {}, 0)).toBe(true);
    expect(mayMatch(audit, f('filter component = "lambda"'), {}, 0)).toBe(false);
    expect(mayMatch(audit, f('filter cluster = "prod" and component like /audit/'), {}, 0)).toBe(true);
    expect(mayMatch(audit, f('filter cluster = "staging"'), {}, 0)).toBe(false);
  });
  it('never demands a literal of the line for a field the keys provide', () => {
    const q = filters('filter component = "lambda" and verb = "delete"');
    expect(lineRequirement(q)).toEqual([['lambda'], ['delete']].sort((a, b) => b[0].length - a[0].length));
    expect(lineRequirement(q, new Set(['component']))).toEqual([['delete']]);
  });
});

describe('@ptr pruning', () => {
  it('keeps only the object (or S3 prefix) a pointer names', () => {
    const f = filters('filter @ptr = "app/a-1.gz:17"');
    expect(mayMatch(parseObjectKey('app/a-1.gz'), f, {}, 0)).toBe(true);
    expect(mayMatch(parseObjectKey('app/b-1.gz'), f, {}, 0)).toBe(false);
    expect(mayMatch({ ...parseObjectKey('app/_'), prefixOf: 'app/' }, f, {}, 0)).toBe(true);
    expect(mayMatch({ ...parseObjectKey('web/_'), prefixOf: 'web/' }, f, {}, 0)).toBe(false);
    const list = filters('filter @ptr in ["app/a-1.gz:1", "app/b-1.gz:2"]');
    expect(mayMatch(parseObjectKey('app/b-1.gz'), list, {}, 0)).toBe(true);
    expect(mayMatch(parseObjectKey('app/c-1.gz'), list, {}, 0)).toBe(false);
    expect(mayMatch(parseObjectKey('app/c-1.gz'), filters('filter @ptr like "a-1"'), {}, 0)).toBe(true);
  });
});
