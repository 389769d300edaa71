/**
 * A source's `tag` in a named-component config reaches both the graph (sinks select sources by
 * `match`, Fluent Bit wildcard semantics) and the source itself (file: `fields.tag`, a `*` expanded
 * per file path, so `match` can select single files), through the built CLI's `logferry run --once`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const cli = join(root, 'dist', 'cli', 'logferry.mjs');
let dir: string;

beforeAll(() => {
  // dist/ is built once by test/global-setup.ts.
  dir = mkdtempSync(join(tmpdir(), 'lf-tags-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function archived(d: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const walk = (p: string) => {
    for (const e of readdirSync(p, { withFileTypes: true })) {
      const q = join(p, e.name);
      if (e.isDirectory()) walk(q);
      else
        for (const l of gunzipSync(readFileSync(q)).toString('utf8').trim().split('\n'))
          out.push(JSON.parse(l));
    }
  };
  walk(d);
  return out;
}

describe('source tags and match through logferry run', () => {
  it('routes by user-set tags (static and per-file wildcard) and stamps them on records', () => {
    mkdirSync(join(dir, 'containers'));
    mkdirSync(join(dir, 'host'));
    const lines = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => `${prefix} line ${i}\n`).join('');
    writeFileSync(join(dir, 'containers', 'web-1_default_nginx-abc.log'), lines('web', 5));
    writeFileSync(join(dir, 'containers', 'db-1_default_postgres-def.log'), lines('db', 4));
    writeFileSync(join(dir, 'host', 'messages'), lines('sys', 3));
    writeFileSync(
      join(dir, 'tags.yaml'),
      `dataDir: ./data
sources:
  kube: { type: file, path: ./containers/*.log, tag: 'kube.*', readFromHead: true }
  host: { type: file, path: ./host/messages, tag: host.messages, readFromHead: true }
sinks:
  all-kube: { type: s3, url: file://./out-kube, format: ndjson, match: 'kube.*' }
  web-only: { type: s3, url: file://./out-web, format: ndjson, match: 'kube.*web-1_*' }
  hostlogs: { type: s3, url: file://./out-host, format: ndjson, match: 'host.*' }
`,
    );
    const r = spawnSync(process.execPath, [cli, 'run', 'tags.yaml', '--once', '--json'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.stderr).not.toMatch(/invalid|Error/);
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stderr.trim().split('\n').at(-1) as string);
    expect(s.events).toMatchObject({ received: 12, delivered: 12, failed: 0 });

    const kube = archived(join(dir, 'out-kube'));
    const web = archived(join(dir, 'out-web'));
    const host = archived(join(dir, 'out-host'));
    expect(kube.map((x) => x['@message']).sort()).toEqual(
      [...Array(4)].map((_, i) => `db line ${i}`).concat([...Array(5)].map((_, i) => `web line ${i}`)),
    );
    expect(web.map((x) => x['@message']).sort()).toEqual([...Array(5)].map((_, i) => `web line ${i}`));
    expect(host.map((x) => x['@message']).sort()).toEqual([...Array(3)].map((_, i) => `sys line ${i}`));
    // The source saw its tag: static as written, wildcard expanded with the file's path.
    expect(new Set(host.map((x) => x.tag))).toEqual(new Set(['host.messages']));
    const webTag = `kube.${join(dir, 'containers', 'web-1_default_nginx-abc.log').replace(/^\/+/, '').split('/').join('.')}`;
    expect(new Set(web.map((x) => x.tag))).toEqual(new Set([webTag]));
    expect(kube.every((x) => typeof x.tag === 'string' && (x.tag as string).startsWith('kube.'))).toBe(true);
  }, 120_000);

  it('validate keeps refusing a tag outside sources and a match no tag can satisfy', () => {
    writeFileSync(
      join(dir, 'bad.yaml'),
      `sources:
  host: { type: file, path: ./host/messages, tag: host.messages }
sinks:
  s: { type: s3, url: file://./x, tag: nope, match: 'kube.*' }
`,
    );
    const r = spawnSync(process.execPath, [cli, 'validate', 'bad.yaml'], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('sinks.s.tag: only sources have a tag');
    expect(r.stderr).toContain('sinks.s.match: "kube.*" matches no source');
  });
});
