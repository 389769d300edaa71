import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readClassic } from './classic.js';
import { getAll, getValue, pluginName } from './model.js';
import { translate } from './translate.js';
import {
  accessorSegments,
  onigmoToJs,
  parseDurationMs,
  parseSize,
  patternsIntersect,
  regexLit,
  tokenize,
} from './values.js';
import { readYaml } from './yaml-format.js';

const tmp = mkdtempSync(join(tmpdir(), 'fbclassic-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const show = (f: string) => f.slice(tmp.length + 1);

describe('classic format reader', () => {
  it('reads @SET, ${VAR} (variables, then environment), case-insensitive keys, repeated keys, # only at line start', () => {
    writeFileSync(
      join(tmp, 'main.conf'),
      '\uFEFF# comment\n@SET region=eu-west-1\n[input]\n\tNAME  Tail\n\tpath  /var/log/${app}/*.log # not a comment\n\n[FILTER]\n  Name modify\n  Match *\n  Rename a b\n  RENAME c d\n  Add region ${region}\n',
    );
    const { config, problems } = readClassic(join(tmp, 'main.conf'), { display: show, env: { app: 'web' } });
    expect(problems).toEqual([]);
    const [input, filter] = config.sections;
    expect(input.kind).toBe('input');
    expect(pluginName(input)).toBe('tail');
    expect(getValue(input, 'path')).toBe('/var/log/${app}/*.log # not a comment');
    expect(getAll(filter, 'rename').map((e) => [e.value, e.line])).toEqual([
      ['a b', 10],
      ['c d', 11],
    ]);
    expect(config.variables.get('region')).toBe('eu-west-1');
    const t = translate(config, { env: { app: 'web' } });
    expect(t.doc.sources['tail.0']).toMatchObject({ path: '/var/log/web/*.log # not a comment' });
  });

  it('includes wildcard matches in name order, relative to the including file', () => {
    mkdirSync(join(tmp, 'conf.d'), { recursive: true });
    writeFileSync(join(tmp, 'conf.d', 'b-out.conf'), '[OUTPUT]\n    Name null\n    Match *\n');
    writeFileSync(join(tmp, 'conf.d', 'a-in.conf'), '[INPUT]\n    Name stdin\n');
    writeFileSync(join(tmp, 'conf.d', 'skip.txt'), 'not included');
    writeFileSync(join(tmp, 'inc.conf'), '@INCLUDE conf.d/*.conf\n');
    const { config, problems } = readClassic(join(tmp, 'inc.conf'), { display: show });
    expect(problems).toEqual([]);
    expect(config.files).toEqual(['inc.conf', 'conf.d/a-in.conf', 'conf.d/b-out.conf']);
    expect(config.sections.map((s) => s.kind)).toEqual(['input', 'output']);
  });
});

describe('YAML format reader', () => {
  it('reads lists as repeated keys and multiline rules, with line numbers', () => {
    writeFileSync(
      join(tmp, 'fb.yaml'),
      'multiline_parsers:\n  - name: ml\n    type: regex\n    rules:\n      - state: start_state\n        regex: "/^\\\\d/"\n        next_state: cont\npipeline:\n  filters:\n    - name: grep\n      match: "*"\n      regex:\n        - a ^x\n        - b ^y\n',
    );
    const { config, problems } = readYaml(join(tmp, 'fb.yaml'), { display: show });
    expect(problems).toEqual([]);
    const ml = config.sections.find((s) => s.kind === 'multiline_parser');
    expect(getAll(ml!, 'rule')[0].value).toBe('"start_state" "/^\\d/" "cont"');
    expect(tokenize(getAll(ml!, 'rule')[0].value)).toEqual(['start_state', '/^\\d/', 'cont']);
    const grep = config.sections.find((s) => s.kind === 'filter');
    expect(getAll(grep!, 'regex').map((e) => [e.value, e.line])).toEqual([
      ['a ^x', 13],
      ['b ^y', 14],
    ]);
  });
});

describe('routing of wildcard tags', () => {
  it('a Match that selects some files of a `kube.*` tail gets a runtime condition on the tag', () => {
    writeFileSync(
      join(tmp, 'k.conf'),
      `[INPUT]
    Name tail
    Tag  kube.*
    Path /var/log/containers/*.log
[FILTER]
    Name  modify
    Match kube.*
    Add   cluster prod
[OUTPUT]
    Name  stdout
    Match kube.var.log.containers.nginx*
[OUTPUT]
    Name  null
    Match_Regex ^kube\\..*
`,
    );
    const { config } = readClassic(join(tmp, 'k.conf'), { display: show });
    const t = translate(config, { env: {} });
    expect(t.doc.transforms?.['kube-modify']).toMatchObject({
      operations: [{ add: 'cluster', value: 'prod' }],
    });
    const stdoutIn = ((t.doc.sinks?.stdout.inputs ?? []) as string[])[0];
    expect(t.doc.transforms?.[stdoutIn]).toEqual({
      type: 'filter',
      condition:
        'concat("kube.", replace(ltrim(@logGroup, "/"), "/", "."), "") like /^kube\\.var\\.log\\.containers\\.nginx.*$/',
      inputs: ['kube-modify'],
    });
    // Match_Regex on a wildcard tag: routed at run time too.
    const nullIn = ((t.doc.sinks?.null.inputs ?? []) as string[])[0];
    expect(String(t.doc.transforms?.[nullIn]?.condition)).toContain('@logGroup');
  });
});

describe('value syntax', () => {
  it('converts Onigmo-only escapes and atomic groups to JavaScript', () => {
    expect(onigmoToJs('\\A(?<id>\\h+)(?>x)\\z').source).toBe('^(?<id>[0-9a-fA-F]+)(?:x)$');
    expect(onigmoToJs('(?<a>').error).toBeDefined();
  });
  it('sizes, durations, tokens, accessors, regex literals, pattern intersection', () => {
    expect(parseSize('5MB')).toBe(5 * 1024 * 1024);
    expect(parseSize('32k')).toBe(32 * 1024);
    expect(parseDurationMs('10')).toBe(10_000);
    expect(parseDurationMs('5m')).toBe(300_000);
    expect(tokenize('"start_state" "/a b/" "cont"')).toEqual(['start_state', '/a b/', 'cont']);
    expect(tokenize('key some value', 2)).toEqual(['key', 'some value']);
    expect(accessorSegments("$kubernetes['labels']['app.kubernetes.io/name']")).toEqual([
      'kubernetes',
      'labels',
      'app.kubernetes.io/name',
    ]);
    expect(regexLit('a/b\\/c')).toBe('/a\\/b\\/c/');
    expect(patternsIntersect('kube.*.nginx*', 'kube.var.log.*.log')).toBe(true);
    expect(patternsIntersect('app.*', 'kube.*')).toBe(false);
  });
});
