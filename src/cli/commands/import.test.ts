/**
 * `logferry import fluent-bit` through the real CLI: YAML on stdout only, the summary on stderr,
 * exit 2 with every problem for an unreadable config — and an imported config that runs: a tail →
 * parser → grep → modify → stdout Fluent Bit pipeline, imported, then `logferry run` over a file,
 * printing exactly the records Fluent Bit would have kept, parsed and modified.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '../../..');
const tmp = mkdtempSync(join(tmpdir(), 'fbimport-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[], cwd = tmp) {
  const r = spawnSync(join(root, 'node_modules/.bin/tsx'), [join(root, 'src/cli/main.ts'), ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('logferry import fluent-bit (CLI)', () => {
  it('imports, and the imported pipeline runs: parsed, filtered and modified records come out', () => {
    const log = join(tmp, 'app.log');
    writeFileSync(
      log,
      [
        '2026-12-05 10:00:00 INFO started worker=1',
        '2026-12-05 10:00:01 DEBUG heartbeat',
        '2026-12-05 10:00:02 ERROR failed to connect to db',
        'not a structured line',
      ].join('\n') + '\n',
    );
    writeFileSync(
      join(tmp, 'fluent-bit.conf'),
      `[SERVICE]
    Flush 1
    Parsers_File parsers.conf

[INPUT]
    Name            tail
    Path            ${log}
    Tag             app.main
    Parser          app
    Read_from_Head  On
    Exit_On_Eof     On

[FILTER]
    Name    grep
    Match   app.*
    Exclude level ^DEBUG$

[FILTER]
    Name    modify
    Match   app.main
    Add     service checkout
    Rename  msg message_text

[OUTPUT]
    Name    stdout
    Match   *
    Format  json_lines
`,
    );
    writeFileSync(
      join(tmp, 'parsers.conf'),
      `[PARSER]
    Name        app
    Format      regex
    Regex       ^(?<time>\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}) (?<level>[A-Z]+) (?<msg>.*)$
    Time_Key    time
    Time_Format %Y-%m-%d %H:%M:%S
`,
    );
    const imp = cli(['import', 'fluent-bit', 'fluent-bit.conf']);
    expect(imp.code).toBe(0);
    const doc = parse(imp.stdout) as Record<string, Record<string, Record<string, unknown>>>;
    expect(doc.sources['app.main']).toMatchObject({ type: 'file', once: true, readFromHead: true });
    expect(imp.stderr).toMatch(
      /^imported fluent-bit.conf, parsers.conf: 1 source\(s\), 3 transform\(s\), 1 sink\(s\)/,
    );
    writeFileSync(join(tmp, 'logferry.yaml'), imp.stdout);

    const val = cli(['validate', 'logferry.yaml']);
    expect(val.stderr).toBe('');
    expect(val.code).toBe(0);

    const run = cli(['run', 'logferry.yaml']);
    expect(run.code).toBe(0);
    const records = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    // DEBUG excluded by grep; the unstructured line has no `level`, so Exclude keeps it (as Fluent Bit).
    expect(records.map((r) => r['@message'])).toEqual([
      '2026-12-05 10:00:00 INFO started worker=1',
      '2026-12-05 10:00:02 ERROR failed to connect to db',
      'not a structured line',
    ]);
    expect(records[0]).toMatchObject({
      level: 'INFO',
      message_text: 'started worker=1',
      service: 'checkout',
    });
    expect(records[0].msg).toBeUndefined();
    expect(new Date(records[1]['@timestamp'] as number).toISOString()).toBe('2026-12-05T10:00:02.000Z');
    expect(records[2]).toMatchObject({ service: 'checkout' });
  });

  it("a json parser's Time_Key/Time_Format (Fluent Bit's standard docker parser) makes the line's time the event time", () => {
    const dir = mkdtempSync(join(tmp, 'docker-'));
    const log = join(dir, 'web_default_nginx-0123456789abcdef.log');
    writeFileSync(
      log,
      [
        '{"log":"GET /healthz 200\\n","stream":"stdout","time":"2026-12-05T10:00:00.123456789Z"}',
        '{"log":"upstream timed out\\n","stream":"stderr","time":"2026-12-05T10:00:01.5Z"}',
      ].join('\n') + '\n',
    );
    writeFileSync(
      join(dir, 'fluent-bit.conf'),
      `[SERVICE]
    Parsers_File parsers.conf
[INPUT]
    Name            tail
    Path            ${log}
    Tag             kube.*
    Parser          docker
    Read_from_Head  On
    Exit_On_Eof     On
[OUTPUT]
    Name    stdout
    Match   *
    Format  json_lines
`,
    );
    // Fluent Bit's own parsers.conf entry.
    writeFileSync(
      join(dir, 'parsers.conf'),
      `[PARSER]
    Name         docker
    Format       json
    Time_Key     time
    Time_Format  %Y-%m-%dT%H:%M:%S.%L
    Time_Keep    On
`,
    );
    const imp = cli(['import', 'fluent-bit', 'fluent-bit.conf', '-o', 'logferry.yaml'], dir);
    expect(imp.code).toBe(0);
    expect(imp.stderr).not.toContain('Time_Key');
    const doc = parse(readFileSync(join(dir, 'logferry.yaml'), 'utf8')) as Record<
      string,
      Record<string, Record<string, unknown>>
    >;
    const parseStep = Object.values(doc.transforms).find((t) => t.type === 'parse');
    expect(parseStep?.parser).toEqual({
      type: 'json',
      prefix: false,
      timeKey: 'time',
      timeFormat: '%Y-%m-%dT%H:%M:%S.%L',
      timeKeep: true,
    });
    const run = cli(['run', 'logferry.yaml'], dir);
    expect(run.code).toBe(0);
    const records = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => new Date(r['@timestamp'] as string).toISOString())).toEqual([
      '2026-12-05T10:00:00.123Z',
      '2026-12-05T10:00:01.500Z',
    ]);
    expect(records[1]).toMatchObject({
      log: 'upstream timed out\n',
      stream: 'stderr',
      time: '2026-12-05T10:00:01.5Z',
    });
  });

  it('writes -o and refuses an unreadable config with exit 2, every problem, nothing on stdout', () => {
    writeFileSync(join(tmp, 'bad.conf'), '[INPUT]\n    Name tail\n     Path /x\nTag y\n@INCLUDE nope.conf\n');
    const bad = cli(['import', 'fluent-bit', 'bad.conf', '-o', 'never.yaml']);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain('bad.conf:3: invalid indentation');
    expect(bad.stderr).toContain('bad.conf:4: entry "Tag y" must be indented under [INPUT]');
    expect(bad.stderr).toContain('bad.conf:5: @INCLUDE nope.conf: no such file');
    expect(bad.stderr).not.toContain('    at ');
    const ok = cli(['import', 'fluent-bit', 'fluent-bit.conf', '-o', 'out.yaml']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('');
    expect(readFileSync(join(tmp, 'out.yaml'), 'utf8')).toContain('type: file');
  });
});
