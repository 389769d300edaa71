/**
 * Shapes of Fluent Bit configurations the importer had never seen, found by importing every classic
 * and YAML config of the Fluent Bit repository (conf/, tests/, examples/): each must import without
 * a stack trace, list what does not translate, and pass the real `logferry validate` path. The
 * configs here are written for these tests, modelled on the shapes that broke.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateFile } from '../../cli/commands/validate.js';
import { importFluentBit } from './index.js';

const tmp = mkdtempSync(join(tmpdir(), 'fbunseen-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
/** Writes `text` as a config file, imports it with an empty environment and validates the result. */
async function importAndValidate(text: string, ext = 'conf') {
  const file = join(tmp, `c${++n}.${ext}`);
  writeFileSync(file, text);
  const r = importFluentBit(file, { cwd: tmp, env: {} });
  const out = join(tmp, `c${n}.logferry.yaml`);
  writeFileSync(out, r.yaml);
  await validateFile(out);
  const notes = (kind: string) => r.notes.filter((x) => x.kind === kind).map((x) => x.message);
  return { r, notes };
}

describe('import fluent-bit: configurations without a translatable input still validate', () => {
  it('host-metric inputs only: a stdin source stands in with the first input tag, so filters and outputs are wired', async () => {
    const { r, notes } = await importAndValidate(`[INPUT]
    Name cpu
    Tag  my_cpu

[FILTER]
    Name  record_modifier
    Match my_*
    Record host node-1

[OUTPUT]
    Name  es
    Match *
    Host  search.local
    Index metrics
`);
    expect(r.doc.sources).toEqual({ stdin: { type: 'stdin', format: 'lines', tag: 'my_cpu' } });
    expect(Object.keys(r.doc.sinks ?? {})).toHaveLength(1);
    expect(Object.keys(r.doc.transforms ?? {})).toHaveLength(1);
    expect(notes('untranslated').some((m) => m.includes('[INPUT] cpu'))).toBe(true);
    expect(notes('info').some((m) => m.includes('no [INPUT] translated'))).toBe(true);
    expect(r.yaml).toContain('# stand-in: no [INPUT] translated');
    // The stand-in's line is the message: a filter on Fluent Bit's `log` key reads it.
    const { r: g } = await importAndValidate(`[INPUT]
    Name mem
    Tag  m
[FILTER]
    Name  grep
    Match m
    Regex log keep
[OUTPUT]
    Name  null
    Match *
`);
    expect(Object.values(g.doc.transforms ?? {})).toEqual([
      expect.objectContaining({ condition: '@message like /keep/' }),
    ]);
  });

  it('a parsers file on its own imports and validates', async () => {
    const { r } = await importAndValidate(`[PARSER]
    Name        syslog-ng
    Format      regex
    Regex       ^(?<time>[^ ]+) (?<host>[^ ]+) (?<message>.*)$
    Time_Key    time
    Time_Format %Y-%m-%dT%H:%M:%S
`);
    expect(Object.values(r.doc.sources).map((s) => (s as { type: string }).type)).toEqual(['stdin']);
  });

  it('dummy becomes the demo source: follow at Rate, or Samples records', async () => {
    const { r, notes } = await importAndValidate(`[INPUT]
    Name    dummy
    Tag     dummy.a
    Dummy   {"message":"x"}
    Rate    5
[INPUT]
    Name    dummy
    Tag     dummy.b
    Samples 3
[OUTPUT]
    Name  stdout
    Match dummy.*
`);
    expect(r.doc.sources['dummy.a']).toMatchObject({ type: 'demo', rate: 5, follow: true });
    expect(r.doc.sources['dummy.b']).toMatchObject({
      type: 'demo',
      rate: 1,
      envelopes: 3,
      eventsPerEnvelope: 1,
    });
    expect(notes('approximated').filter((m) => m.includes('dummy → demo'))).toHaveLength(2);
  });

  it('a tail input whose Path is an unset variable is left out, not written as path: []', async () => {
    const { r, notes } = await importAndValidate(`[INPUT]
    Name tail
    Path \${TAIL_GLOB}
[INPUT]
    Name tail
    Path /var/log/app.log
[OUTPUT]
    Name  null
    Match *
`);
    expect(Object.values(r.doc.sources)).toEqual([expect.objectContaining({ path: '/var/log/app.log' })]);
    expect(
      notes('untranslated').some((m) => m.includes('tail without a Path (${TAIL_GLOB} is empty here)')),
    ).toBe(true);
  });
});

describe('import fluent-bit: classic syntax as Fluent Bit reads it', () => {
  it('indented [GROUP] sub-sections (entries indented twice) and text after a section header', async () => {
    const { r, notes } = await importAndValidate(`[INPUT]   # the application log
    name      tail
    path      /var/log/containers/*.log

    [GROUP 1]
        key1  aa
        key2  bb

    read_from_head true

[OUTPUT]
    name      null
    match     *
`);
    expect(Object.values(r.doc.sources)).toEqual([
      expect.objectContaining({ type: 'file', path: '/var/log/containers/*.log', readFromHead: true }),
    ]);
    expect(notes('untranslated').some((m) => m.startsWith('[GROUP 1] group'))).toBe(true);
  });

  it('still refuses what Fluent Bit refuses: an indented [SECTION] before any section', () => {
    const file = join(tmp, 'indented.conf');
    writeFileSync(file, ' [PARSER]\n    Name x\n    Format json\n');
    expect(() => importFluentBit(file, { cwd: tmp, env: {} })).toThrow(/must start at column 1/);
  });
});

describe('import fluent-bit: OpenSearch index names', () => {
  it('a record accessor in Index names the index per record; literal text OpenSearch refuses is cleaned and listed', async () => {
    const { r, notes } = await importAndValidate(
      `pipeline:
  inputs:
    - name: dummy
      tag: a
  outputs:
    - name: opensearch
      match: a
      host: 127.0.0.1
      index: Logs_$kubernetes['namespace_name']
    - name: es
      match: a
      host: 127.0.0.1
      logstash_format: on
      logstash_prefix: My Prefix
`,
      'yaml',
    );
    const idx = Object.values(r.doc.sinks ?? {}).map((s) => (s as { index: string }).index);
    expect(idx).toEqual(['logs_{fields.kubernetes.namespace_name}', 'my-prefix-YYYY.MM.dd']);
    expect(notes('approximated').filter((m) => m.includes('an index name holds only'))).toHaveLength(2);
  });
});

describe('import fluent-bit: YAML multiline parsers', () => {
  it('rule regexes keep their backslashes (\\d stays one backslash), as in the classic syntax', async () => {
    const { r } = await importAndValidate(
      `multiline_parsers:
  - name: java-ish
    type: regex
    flush_timeout: 1000
    rules:
      - state: start_state
        regex: '/([a-zA-Z]+ \\d+ \\d+\\:\\d+\\:\\d+)(.*)/'
        next_state: cont
      - state: cont
        regex: '/^\\s+at.*/'
        next_state: cont
pipeline:
  inputs:
    - name: tail
      path: /var/log/app/*.log
      tag: app.*
      multiline.parser: java-ish
  outputs:
    - name: stdout
      match: '*'
`,
      'yaml',
    );
    const ml = (r.doc.sources as Record<string, { multiline?: { firstLine: string; flushMs: number } }>).app
      ?.multiline;
    expect(ml?.firstLine).toBe('([a-zA-Z]+ \\d+ \\d+\\:\\d+\\:\\d+)(.*)');
    expect(new RegExp(ml?.firstLine ?? '$^').test('Dec 14 06:41:08 Exception in thread "main"')).toBe(true);
    expect(ml?.flushMs).toBe(1000);
  });
});

describe('import fluent-bit: Kinesis Data Streams outputs', () => {
  it('kinesis_streams becomes a kinesis sink: partition_key accessor as a field path, log_key log as raw messages', async () => {
    const { r, notes } = await importAndValidate(`[INPUT]
    Name  tail
    Path  /var/log/containers/*.log
    Tag   kube.*
[OUTPUT]
    Name           kinesis_streams
    Match          kube.*
    region         eu-west-1
    stream         app-logs
    partition_key  $kubernetes['pod_name']
    time_key       ts
    compression    gzip
    role_arn       arn:aws:iam::123456789012:role/ship
    auto_retry_requests true
[OUTPUT]
    Name     kinesis_streams
    Match    *
    region   eu-west-1
    stream   arn:aws:kinesis:eu-west-1:123456789012:stream/raw-lines
    log_key  log
[OUTPUT]
    Name   kinesis_streams
    Match  *
`);
    const sinks = Object.values(r.doc.sinks ?? {}) as Record<string, unknown>[];
    expect(sinks).toEqual([
      expect.objectContaining({
        type: 'kinesis',
        stream: 'app-logs',
        region: 'eu-west-1',
        partitionKey: 'kubernetes.pod_name',
      }),
      expect.objectContaining({
        type: 'kinesis',
        stream: 'arn:aws:kinesis:eu-west-1:123456789012:stream/raw-lines',
        format: 'raw',
      }),
    ]);
    expect(notes('untranslated').some((m) => m.includes('kinesis_streams without stream'))).toBe(true);
    expect(notes('untranslated').some((m) => m.startsWith('time_key'))).toBe(true);
    expect(notes('approximated').some((m) => m.startsWith('compression'))).toBe(true);
    expect(notes('untranslated').some((m) => m.startsWith('role_arn: logferry does not assume roles'))).toBe(
      true,
    );
    expect(notes('ignored').some((m) => m.startsWith('auto_retry_requests'))).toBe(true);
  });
});
