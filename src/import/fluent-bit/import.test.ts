/**
 * End-to-end: Fluent Bit configurations (the seed's, and ones written from Fluent Bit's docs) are
 * imported, what does not translate is listed with file:line, and the result passes the real
 * `logferry validate` path (validateFile). Sources of the types other helpers add in parallel
 * (forward, http, syslog, stdin) are swapped for a demo source of the same name and tag only while
 * this branch's registry does not know them, so the rest of the graph is still validated.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateFile } from '../../cli/commands/validate.js';
import { LogferryError } from '../../core/errors.js';
import { sources as sourceRegistry } from '../../sources/index.js';
import { type ImportResult, importFluentBit, summarize } from './index.js';

const here = join(import.meta.dirname, 'testdata');
const tmp = mkdtempSync(join(tmpdir(), 'fbimport-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const PARALLEL_SOURCE_TYPES = new Set(['forward', 'http', 'syslog', 'stdin']);

/** Validates an import result through `logferry validate`, with the env: secrets it refers to set. */
async function validates(r: ImportResult, name: string): Promise<string> {
  const doc = parse(r.yaml) as Record<string, Record<string, Record<string, unknown>>>;
  for (const [n, s] of Object.entries(doc.sources ?? {})) {
    const type = String(s.type);
    if (!sourceRegistry.some((x) => x.type === type)) {
      expect(PARALLEL_SOURCE_TYPES.has(type), `source ${n} has unknown type ${type}`).toBe(true);
      doc.sources[n] = { type: 'demo', envelopes: 1, ...(s.tag ? { tag: s.tag } : {}) };
    }
  }
  const text = JSON.stringify(doc);
  for (const m of text.matchAll(/"env:([A-Za-z_][A-Za-z0-9_]*)"/g))
    process.env[m[1]] ??= `test-value-${m[1]}`;
  const file = join(tmp, `${name}.yaml`);
  writeFileSync(file, JSON.stringify(doc));
  return validateFile(file);
}

function kinds(r: ImportResult, kind: string): string[] {
  return r.notes.filter((n) => n.kind === kind).map((n) => `${n.where} ${n.message}`);
}

describe('import fluent-bit: the seed (003) configuration', () => {
  const r = importFluentBit(join(here, 'seed-003/fluent-bit.conf'), { cwd: here });

  it('reads Parsers_File relative to the config and translates inputs, parsers and filters', async () => {
    expect(r.files).toEqual(['seed-003/fluent-bit.conf', 'seed-003/parsers.conf']);
    expect(Object.keys(r.doc.sources)).toEqual([
      'test.access',
      'test.api-responselog',
      'test.api-requestlog',
    ]);
    expect(r.doc.sources['test.access']).toMatchObject({
      type: 'file',
      path: '/var/lib/docker/overlay2/*/merged/webapp/logs/access.log',
      tag: 'test.access',
      refreshIntervalMs: 10_000,
    });
    const t = r.doc.transforms ?? {};
    expect(t['test.access-parser']).toMatchObject({
      type: 'parse',
      inputs: ['test.access'],
      parser: { type: 'regex', timeKey: 'time', timeFormat: '%d/%b/%Y:%H:%M:%S %z', timeKeep: true },
    });
    expect(t['test.access-modify']).toEqual({
      type: 'modify',
      operations: [{ add: 'logtype', value: 'accesslog' }],
      inputs: ['test.access-parser'],
    });
    expect(t['test.api-requestlog-modify']).toMatchObject({
      operations: [{ add: 'logtype', value: 'api-requestlog' }],
    });
    expect(await validates(r, 'seed')).toContain('valid');
  });

  it('refuses the inline AWS keys, never printing them, and lists what does not translate with file:line', () => {
    expect(r.yaml).not.toContain('AK***');
    expect(r.yaml).not.toContain('56***');
    expect(summarize(r)).not.toContain('AK***');
    const secrets = kinds(r, 'secret');
    expect(secrets.some((s) => s.startsWith('seed-003/fluent-bit.conf:88 aws_key_id'))).toBe(true);
    expect(secrets.some((s) => s.startsWith('seed-003/fluent-bit.conf:89 aws_sec_key'))).toBe(true);
    const un = kinds(r, 'untranslated');
    expect(un.some((s) => s.startsWith('seed-003/fluent-bit.conf:69 [FILTER] aws'))).toBe(true);
    expect(un.some((s) => s.includes('[OUTPUT] kinesis'))).toBe(false);
    // Fluent Bit's own no-ops are recognised, not translated into work.
    expect(kinds(r, 'info').filter((s) => s.includes('no-op'))).toHaveLength(6);
    expect(r.yaml).toMatch(/# .*NOT TRANSLATED: \[FILTER\] aws/);
    // The agents' Kinesis output is a kinesis sink reading every chain (Match **), keyed as configured.
    expect(r.doc.sinks).toEqual({
      kinesis: {
        type: 'kinesis',
        stream: 'infra-dev-kinesis-01',
        region: 'ap-northeast-2',
        partitionKey: 'container_id',
        inputs: ['test.access-modify', 'test.api-responselog-modify', 'test.api-requestlog-modify'],
      },
    });
    expect(kinds(r, 'approximated').some((s) => s.includes('append_newline'))).toBe(true);
  });
});

describe('import fluent-bit: configurations from Fluent Bit docs', () => {
  it('EKS Container Insights: @INCLUDE with a wildcard, @SET, multiline docker/cri, kubernetes Merge_Log, es + s3', async () => {
    const r = importFluentBit(join(here, 'eks-container-insights/fluent-bit.conf'), { cwd: here, env: {} });
    expect(r.files).toEqual([
      'eks-container-insights/fluent-bit.conf',
      'eks-container-insights/application-log.conf',
      'eks-container-insights/dataplane-log.conf',
      'eks-container-insights/parsers.conf',
    ]);
    const app = r.doc.sources.application;
    expect(app).toMatchObject({
      type: 'file',
      path: '/var/log/containers/*.log',
      format: 'cri',
      rotateWaitMs: 30_000,
    });
    expect((app.exclude as string[]).length).toBe(4);
    expect(app.tag).toBe('application.*'); // expanded per file by the source (fields.tag)
    const t = r.doc.transforms ?? {};
    expect(Object.values(t)).toContainEqual(
      expect.objectContaining({ type: 'decode', field: '@message', as: 'json', into: 'log_processed' }),
    );
    expect(Object.values(t)).toContainEqual(
      expect.objectContaining({ type: 'modify', operations: [{ add: 'cluster', value: 'prod-eks' }] }),
    );
    expect(r.doc.sinks?.es).toMatchObject({
      type: 'opensearch',
      url: 'https://search-logs.eu-west-1.es.amazonaws.com:443',
      index: 'eks-app-YYYY.MM.dd',
      auth: { type: 'sigv4', region: 'eu-west-1' },
    });
    expect(r.doc.sinks?.s3).toMatchObject({
      url: 's3://eks-dataplane-logs/dataplane',
      keyTemplate: '${year}/${month}/${day}/${hour}',
      maxBytes: 50 * 1024 * 1024,
      maxAgeMs: 300_000,
      inputs: ['dataplane.tail'],
    });
    expect(r.doc.metricsAddress).toBe('0.0.0.0:2020');
    const un = kinds(r, 'untranslated').join('\n');
    expect(un).toContain('dataplane-log.conf:12 [INPUT] systemd');
    expect(un).toContain('application-log.conf:34 [OUTPUT] cloudwatch_logs');
    // The systemd filter's input was not translated, so nothing reads it.
    expect(Object.keys(t).some((n) => n.includes('systemd'))).toBe(false);
    expect(kinds(r, 'approximated').join('\n')).toContain('$TAG[2], $UUID.gz left out');
    expect(await validates(r, 'eks')).toContain('valid');
  });

  it('FireLens: forward inputs, wildcard Match routed by tag at run time, record_modifier, firehose + opensearch', async () => {
    const r = importFluentBit(join(here, 'firelens/fluent-bit.conf'), { cwd: here, env: {} });
    expect(r.doc.sources['forward.0']).toEqual({ type: 'forward', address: '0.0.0.0:24224' });
    expect(r.doc.sources['forward.1']).toEqual({ type: 'forward', address: '127.0.0.1:24224' });
    const t = r.doc.transforms ?? {};
    const grep = Object.values(t).find((x) => x.type === 'filter' && x.exclude);
    expect(grep?.exclude).toBe(
      '(tag like /^.*-firelens-.*$/) and (log like /^.*(GET \\/health|ELB-HealthChecker).*$/)',
    );
    const parseT = Object.values(t).find((x) => x.type === 'parse');
    expect(parseT).toMatchObject({
      from: 'log',
      condition: 'tag like /^app-firelens.*$/',
      keepSource: false,
    });
    const rm = Object.values(t).find((x) => x.type === 'modify');
    expect(rm?.operations).toEqual([
      { set: 'ecs_cluster', value: '' },
      { set: 'service', value: 'orders' },
      { remove: 'container_id' },
    ]);
    const fh = r.doc.sinks?.kinesis_firehose;
    expect(fh).toMatchObject({ type: 'firehose', deliveryStreamName: 'orders-logs', region: 'us-east-1' });
    const route = t[((fh?.inputs ?? []) as string[])[0]];
    expect(route).toMatchObject({ type: 'filter', condition: 'tag like /^app-firelens.*$/' });
    expect(r.yaml).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(kinds(r, 'secret')[0]).toContain('firelens/fluent-bit.conf:42 aws_access_key_id');
    expect(kinds(r, 'untranslated').join('\n')).toContain(
      'Parsers_File /fluent-bit/parsers/parsers.conf: not found here',
    );
    expect(await validates(r, 'firelens')).toContain('valid');
  });

  it('YAML format: env, includes, lists as repeated keys, processors listed, loki + stdout', async () => {
    const r = importFluentBit(join(here, 'yaml-format/fluent-bit.yaml'), { cwd: here, env: {} });
    expect(r.files).toEqual(['yaml-format/fluent-bit.yaml', 'yaml-format/parsers.yaml']);
    expect(r.doc.sources['app.web']).toMatchObject({ path: '/var/log/app/web/*.log', readFromHead: true });
    const t = r.doc.transforms ?? {};
    const webParse = t['app.web-parser'];
    expect(webParse).toMatchObject({
      type: 'parse',
      parser: { type: 'regex', types: { code: 'integer', size: 'integer' } },
    });
    // On the web stream `log` was parsed away: Rename log is a no-op in Fluent Bit and here alike.
    expect(t['app.web-modify']?.operations).toEqual([
      { add: 'env', value: 'production' },
      { add: 'team', value: 'payments' },
      { rename: 'log', to: 'message_text' },
    ]);
    // On the worker (no parser), `log` is the message: renamed → copied from @message.
    expect(t['app.worker-modify']?.operations).toContainEqual({ copy: '@message', to: 'message_text' });
    expect(t['app.worker-nest']).toMatchObject({
      type: 'nest',
      keys: ['job_*'],
      under: 'job',
      removePrefix: 'job_',
    });
    expect(t['app.web-grep']).toMatchObject({ condition: '(code like /^5/) or (path like /^\\/api\\//)' });
    expect(r.doc.sinks?.loki).toMatchObject({
      type: 'http',
      flavor: 'loki',
      url: 'http://loki.monitoring.svc:3100',
      tenant: 'payments',
      labels: [],
      staticLabels: { job: 'fluent-bit', env: 'production' },
    });
    expect(((r.doc.sinks?.loki.inputs ?? []) as string[]).sort()).toEqual([
      'app.web-grep',
      'app.worker-nest',
    ]);
    expect(r.doc.sinks?.stdout).toMatchObject({ format: 'ndjson', inputs: ['app.worker-nest'] });
    expect(r.doc.metricsAddress).toBe('127.0.0.1:2021');
    const un = kinds(r, 'untranslated').join('\n');
    expect(un).toContain('yaml-format/fluent-bit.yaml:27 processors');
    expect(un).toContain("$kubernetes['namespace_name']");
    expect(await validates(r, 'yaml')).toContain('valid');
  });

  it('multiline: a [MULTILINE_PARSER], built-in python joins and the old Multiline/Parser_Firstline', async () => {
    const r = importFluentBit(join(here, 'multiline/fluent-bit.conf'), { cwd: here, env: {} });
    expect(r.doc.sources.java).toMatchObject({
      multiline: { firstLine: '([a-zA-Z]+ \\d+ \\d+\\:\\d+\\:\\d+)(.*)', flushMs: 1000 },
      readFromHead: true,
    });
    expect(r.doc.sources.python).toMatchObject({ multiline: { parsers: ['python'] } });
    expect(r.doc.sources.legacy).toMatchObject({
      multiline: { firstLine: expect.stringContaining('(?<level>'), flushMs: 5000 },
    });
    expect(r.doc.transforms?.['legacy-parser']).toMatchObject({ parser: { type: 'regex', timeKey: 'time' } });
    expect(((r.doc.sinks?.s3.inputs ?? []) as string[]).sort()).toEqual(['java', 'legacy-parser', 'python']);
    expect(kinds(r, 'approximated').join('\n')).toContain('continuation rules');
    expect(await validates(r, 'multiline')).toContain('valid');
  });

  it('rewrite_tag: re-tagged records branch, meet the filters of their new tag, and reach the outputs matching it', async () => {
    const r = importFluentBit(join(here, 'rewrite-tag/fluent-bit.conf'), { cwd: here, env: {} });
    const t = r.doc.transforms ?? {};
    const branch = Object.entries(t).find(([n]) => n.includes('retag'));
    expect(branch?.[1]).toMatchObject({ type: 'filter', condition: 'level like /^(error|fatal)$/' });
    const rest = Object.entries(t).find(([n]) => n.includes('not-retagged'));
    expect(rest?.[1]).toMatchObject({ exclude: 'level like /^(error|fatal)$/' });
    // alert.app.log gets `severity high`, not the app.* throttle; app.log gets the throttle.
    const sev = Object.entries(t).find(([, c]) => c.type === 'modify');
    expect(sev?.[1].inputs).toEqual([branch?.[0]]);
    expect(r.doc.sinks?.splunk).toMatchObject({
      flavor: 'splunk-hec',
      url: 'https://splunk.example.com:8088',
      token: 'env:FLB_SPLUNK_SPLUNK_TOKEN',
      index: 'alerts',
      sourcetype: 'app:alert',
      inputs: [sev?.[0]],
    });
    const thr = Object.entries(t).find(([, c]) => c.type === 'throttle');
    expect(thr?.[1]).toMatchObject({ threshold: 2400, window: '3000ms', inputs: [rest?.[0]] });
    expect(r.doc.sinks?.es).toMatchObject({
      url: 'http://es.internal:9200',
      index: 'app',
      auth: { type: 'basic', username: 'shipper', password: 'env:ES_PASSWORD' },
      inputs: [thr?.[0]],
    });
    expect(r.yaml).not.toContain('11111111-2222');
    expect(kinds(r, 'untranslated').join('\n')).toContain('[OUTPUT] null: Match debug.* selects no input');
    expect(await validates(r, 'rewrite')).toContain('valid');
  });

  it('loki, splunk and http outputs: env secrets, modify Condition, grep Regex + Exclude, lua listed', async () => {
    const r = importFluentBit(join(here, 'loki-splunk/fluent-bit.conf'), { cwd: here, env: {} });
    expect(r.doc.sources.syslog).toEqual({
      type: 'syslog',
      tag: 'syslog',
      mode: 'udp',
      address: '127.0.0.1:5140',
    });
    expect(r.doc.sources.webhook).toEqual({ type: 'http', address: '127.0.0.1:9880', tag: 'webhook' });
    const t = r.doc.transforms ?? {};
    expect(t['nginx.access-grep']).toEqual({
      type: 'filter',
      condition: 'code like /^[45]/',
      exclude: 'agent like /kube-probe/',
      inputs: ['nginx.access-parser'],
    });
    const mod = Object.values(t).find((x) => x.type === 'modify');
    expect(mod?.operations).toEqual([
      { set: 'tier', value: 'frontend', condition: 'host = "web-1"' },
      { copy: 'host', to: 'source_host', condition: 'host = "web-1"' },
      { rename: 'user', to: 'remote_user', overwrite: true, condition: 'host = "web-1"' },
    ]);
    expect(r.doc.sinks?.loki).toMatchObject({
      url: 'https://logs-prod-eu-west-0.grafana.net:443',
      token: 'env:LOKI_TOKEN',
      staticLabels: { job: 'nginx' },
    });
    expect(r.doc.sinks?.splunk).toMatchObject({ token: 'env:SPLUNK_HEC_TOKEN' });
    expect(r.doc.sinks?.http).toMatchObject({
      flavor: 'ndjson',
      url: 'https://collector.example.com:443/ingest',
      headers: { 'X-Source': 'fluent-bit' },
      tokenHeader: 'Authorization',
      tokenPrefix: 'Bearer ',
      token: 'env:FLB_HTTP_AUTHORIZATION',
    });
    expect(r.yaml).not.toContain('abcdef0123456789');
    expect(kinds(r, 'untranslated').join('\n')).toContain('loki-splunk/fluent-bit.conf:37 [FILTER] lua');
    expect(await validates(r, 'loki')).toContain('valid');
  });
});

describe('import fluent-bit: unreadable configurations', () => {
  it('lists every problem with file:line (CONFIG_INVALID → exit 2)', () => {
    let err: unknown;
    try {
      importFluentBit(join(here, 'broken/fluent-bit.conf'), { cwd: here });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LogferryError);
    const e = err as LogferryError;
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.details?.problems).toEqual([
      'broken/fluent-bit.conf:3: entry "Daemon Off" must be indented under [SERVICE]',
      'broken/fluent-bit.conf:7: invalid indentation: entries of [INPUT] (line 5) are indented with 4 spaces, this one with 6 spaces',
      'broken/fluent-bit.conf:8: key "Tag" has no value',
      expect.stringMatching(/^broken\/fluent-bit.conf:10: @INCLUDE missing-file.conf: no such file/),
      'broken/fluent-bit.conf:12: [OUTPUT] has no Name',
    ]);
  });

  it('refuses a missing file and an include cycle', () => {
    expect(() => importFluentBit(join(tmp, 'nope.conf'))).toThrow(/cannot read/);
    writeFileSync(join(tmp, 'a.conf'), '@INCLUDE b.conf\n');
    writeFileSync(join(tmp, 'b.conf'), '@INCLUDE a.conf\n');
    expect(() => importFluentBit(join(tmp, 'a.conf'))).toThrow(/@INCLUDE cycle/);
  });
});
