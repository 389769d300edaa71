/**
 * `logferry run` as an operator runs it (the built CLI, bundled privately for this file): state
 * under the locked `dataDir`, `--once` over files (to EOF, positions honoured on the next run),
 * sources without a bounded mode refused, a second daemon on the same dataDir refused with exit 2,
 * a stale lock taken over, SIGTERM draining with the summary.
 */
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { archived, hungEndpoint, privateCli, summaryOf, waitUntil } from './infra/cli-daemon.js';

const { root, run, start: startDaemon } = privateCli('durable');

/** A CRI container log line. */
const cri = (i: number) => `2026-12-05T10:00:00.${String(i % 1000).padStart(3, '0')}Z stdout F line ${i}\n`;

function fileConfig(dir: string, extra: string[] = []): string {
  const p = join(dir, 'logferry.yaml');
  writeFileSync(
    p,
    [
      'dataDir: ./data',
      'sources:',
      '  nodes: { type: file, path: ./logs/*.log, readFromHead: true }',
      'sinks:',
      '  archive: { type: s3, url: ./archive, maxAgeMs: 200 }',
      ...extra,
      '',
    ].join('\n'),
  );
  return p;
}

describe('logferry run --once', () => {
  it('reads files to EOF and exits; the next --once run reads only what was appended', () => {
    const dir = mkdtempSync(join(root, 'once-'));
    mkdirSync(join(dir, 'logs'));
    let text = '';
    for (let i = 0; i < 500; i++) text += cri(i);
    writeFileSync(join(dir, 'logs', 'app_ns_web-0123.log'), text);
    writeFileSync(join(dir, 'logs', 'other.log'), 'plain one\nplain two\n');
    fileConfig(dir);
    const r1 = run(['run', 'logferry.yaml', '--once', '--json'], dir);
    expect(r1.stderr).not.toMatch(/"level":"error"/);
    expect(r1.code).toBe(0);
    expect(r1.stdout).toBe('');
    const s1 = summaryOf(r1.stderr);
    expect(s1.events.delivered).toBe(502);
    expect(s1.interrupted).toBe(false);
    // State lives in the config's dataDir: positions per source, no lock left behind.
    const positions = join(dir, 'data', 'state', 'nodes', 'positions.json');
    expect(Object.keys(JSON.parse(readFileSync(positions, 'utf8')).files)).toHaveLength(2);
    expect(existsSync(join(dir, 'data', 'state', 'daemon.lock'))).toBe(false);
    // The default dead-letter store is in the config's dataDir too, not in ./logferry-data.
    expect(s1.deadLetter).toBe(`${join(dir, 'data', 'dead-letter')} (file)`);
    expect(existsSync(join(dir, 'logferry-data'))).toBe(false);

    appendFileSync(join(dir, 'logs', 'app_ns_web-0123.log'), cri(500) + cri(501));
    const r2 = run(['run', 'logferry.yaml', '--once', '--json'], dir);
    expect(r2.code).toBe(0);
    expect(summaryOf(r2.stderr).events.delivered).toBe(2);
    const docs = archived(join(dir, 'archive'));
    const messages = new Set(docs.map((d) => d['@message']));
    for (let i = 0; i < 502; i++) expect(messages.has(`line ${i}`)).toBe(true);
    expect(docs).toHaveLength(504);
  });

  it('moves positions kept in the old place (<config dir>/logferry-data/state) into dataDir', () => {
    const dir = mkdtempSync(join(root, 'legacy-'));
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'logs', 'a.log'), 'one\ntwo\n');
    fileConfig(dir);
    // A first run records the file's identity; pretend it was an old version's database.
    expect(run(['run', 'logferry.yaml', '--once', '--json'], dir).code).toBe(0);
    const fresh = join(dir, 'data', 'state', 'nodes', 'positions.json');
    const legacyDir = join(dir, 'logferry-data', 'state');
    mkdirSync(legacyDir, { recursive: true });
    writeFileSync(join(legacyDir, 'file-nodes.positions.json'), readFileSync(fresh));
    rmSync(fresh);
    appendFileSync(join(dir, 'logs', 'a.log'), 'three\n');
    const r = run(['run', 'logferry.yaml', '--once', '--json'], dir);
    expect(r.code).toBe(0);
    expect(summaryOf(r.stderr).events.delivered).toBe(1);
    expect(existsSync(fresh)).toBe(true);
    expect(existsSync(join(legacyDir, 'file-nodes.positions.json'))).toBe(false);
  });

  it('refuses sources that cannot stop by themselves, and --once with --follow (exit 2)', () => {
    const dir = mkdtempSync(join(root, 'refuse-'));
    writeFileSync(
      join(dir, 'f.yaml'),
      ['sources:', '  live: { type: demo, follow: true }', 'sinks:', '  - { type: blackhole }', ''].join(
        '\n',
      ),
    );
    const r = run(['run', 'f.yaml', '--once'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--once needs every source to stop by itself/);
    expect(r.stderr).toMatch(/source live \(type demo\): it follows/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const both = run(['run', '--once', '--follow'], dir);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--once and --follow contradict each other/);
    // A demo that ends by itself is fine.
    const ok = run(['run', '--once', '--events', '100', '--out', join(dir, 'out'), '--json'], dir);
    expect(ok.code).toBe(0);
  });
});

describe('dataDir lock and shutdown', () => {
  it('refuses a second daemon on the same dataDir; SIGTERM drains and prints the summary; the lock goes', async () => {
    const dir = mkdtempSync(join(root, 'lock-'));
    const data = join(dir, 'data');
    const lock = join(data, 'state', 'daemon.lock');
    const d = startDaemon(['run', '--follow', '--rate', '500', '--out', data, '--json'], dir);
    try {
      await waitUntil('the lock', () => existsSync(lock));
      expect(JSON.parse(readFileSync(lock, 'utf8'))).toMatchObject({ pid: d.child.pid, host: hostname() });
      const second = run(['run', '--events', '10', '--out', data], dir);
      expect(second.code).toBe(2);
      expect(second.stderr).toMatch(
        new RegExp(`data directory ${data} is in use by another logferry daemon \\(pid ${d.child.pid} on `),
      );
      await new Promise((r) => setTimeout(r, 500));
      d.child.kill('SIGTERM');
      expect(await d.exited()).toBe(0);
      const s = summaryOf(d.stderr());
      expect(s.interrupted).toBe(true);
      expect(s.balanced).toBe(true);
      expect(s.events.failed).toBe(0);
      expect(s.events.received).toBeGreaterThan(0);
      expect(d.stderr()).toMatch(/SIGTERM: stopping/);
      expect(existsSync(lock)).toBe(false);
    } finally {
      d.child.kill('SIGKILL');
    }
  });

  it('takes over the lock of a daemon that was killed (-9)', async () => {
    const dir = mkdtempSync(join(root, 'stale-'));
    const data = join(dir, 'data');
    const lock = join(data, 'state', 'daemon.lock');
    const d = startDaemon(['run', '--follow', '--rate', '200', '--out', data], dir);
    await waitUntil('the lock', () => existsSync(lock));
    d.child.kill('SIGKILL');
    await d.exited();
    expect(existsSync(lock)).toBe(true);
    const r = run(['run', '--events', '50', '--out', data, '--json'], dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(`took over a stale data directory lock.*process ${d.child.pid} is not running`),
    );
  });
});

describe('shutdown drain timeout', () => {
  it('SIGTERM waits shutdown.drainTimeout for a hung sink, then exits with the summary; those records are not acknowledged and come again', async () => {
    // A sink endpoint that accepts connections and never answers.
    const hung = await hungEndpoint();
    const { port, sockets } = hung;
    const dir = mkdtempSync(join(root, 'drain-'));
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'logs', 'a.log'), Array.from({ length: 200 }, (_, i) => `hung ${i}\n`).join(''));
    const cfg = (sink: string) =>
      [
        'dataDir: ./data',
        'shutdown: { drainTimeout: 1s }',
        'sources:',
        '  logs: { type: file, path: ./logs/*.log, readFromHead: true }',
        'sinks:',
        `  out: ${sink}`,
        '',
      ].join('\n');
    writeFileSync(
      join(dir, 'hung.yaml'),
      cfg(`{ type: http, flavor: ndjson, url: "http://127.0.0.1:${port}/", maxAgeMs: 100 }`),
    );
    writeFileSync(join(dir, 'ok.yaml'), cfg('{ type: blackhole }'));
    try {
      const d = startDaemon(['run', 'hung.yaml', '--json'], dir);
      await waitUntil('a send to the hung sink', () => sockets.length > 0);
      const t0 = Date.now();
      d.child.kill('SIGTERM');
      const code = await d.exited();
      const took = Date.now() - t0;
      expect(code).toBe(1);
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(15_000);
      expect(d.stderr()).toMatch(
        /drain timeout \(1s\) passed: records not yet delivered are counted as failed and not acknowledged/,
      );
      const s = summaryOf(d.stderr());
      expect(s.balanced).toBe(true);
      expect(s.interrupted).toBe(true);
      expect(s.events.failed).toBe(200);
      expect(s.byReason['failed:DEADLINE']).toBe(200);
      // Not acknowledged: a later run delivers them.
      const again = run(['run', 'ok.yaml', '--once', '--json'], dir);
      expect(again.code).toBe(0);
      expect(summaryOf(again.stderr).events.delivered).toBe(200);
    } finally {
      hung.close();
    }
  });

  it('a second signal stops at once, without waiting for the drain timeout', async () => {
    const hung = await hungEndpoint();
    const { port, sockets } = hung;
    const dir = mkdtempSync(join(root, 'twice-'));
    writeFileSync(
      join(dir, 'c.yaml'),
      [
        'dataDir: ./data',
        'shutdown: { drainTimeout: 60s }',
        'sources: { d: { type: demo, envelopes: 20 } }',
        `sinks: { out: { type: http, flavor: ndjson, url: "http://127.0.0.1:${port}/", maxAgeMs: 100 } }`,
        '',
      ].join('\n'),
    );
    try {
      const d = startDaemon(['run', 'c.yaml', '--json'], dir);
      await waitUntil('a send to the hung sink', () => sockets.length > 0);
      const t0 = Date.now();
      d.child.kill('SIGINT');
      await waitUntil('the first signal taken', () => /SIGINT: stopping/.test(d.stderr()));
      d.child.kill('SIGINT');
      expect(await d.exited()).toBe(1);
      expect(Date.now() - t0).toBeLessThan(20_000);
      expect(d.stderr()).toMatch(/SIGINT again: stopping now/);
      const s = summaryOf(d.stderr());
      expect(s.abandoned).toBe(true);
      expect(s.balanced).toBe(true);
      expect(s.events.failed).toBeGreaterThan(0);
    } finally {
      hung.close();
    }
  });
});

describe('disk buffer', () => {
  it('acknowledges what is on disk, keeps it while the sink is down, and delivers it after a restart', async () => {
    const hung = await hungEndpoint();
    const { port, sockets } = hung;
    const dir = mkdtempSync(join(root, 'disk-'));
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'logs', 'a.log'), Array.from({ length: 300 }, (_, i) => `kept ${i}\n`).join(''));
    const cfg = (sink: string) =>
      [
        'dataDir: ./data',
        'shutdown: { drainTimeout: 1s }',
        'sources:',
        '  logs: { type: file, path: ./logs/*.log, readFromHead: true }',
        'sinks:',
        `  out: { ${sink}, buffer: { type: disk, maxBytes: 8MiB } }`,
        '',
      ].join('\n');
    writeFileSync(
      join(dir, 'down.yaml'),
      cfg(`type: http, flavor: ndjson, url: "http://127.0.0.1:${port}/", maxAgeMs: 50`),
    );
    writeFileSync(join(dir, 'up.yaml'), cfg('type: s3, url: ./archive, maxAgeMs: 50'));
    try {
      const d = startDaemon(['run', 'down.yaml', '--json'], dir);
      await waitUntil('a send to the hung sink', () => sockets.length > 0);
      d.child.kill('SIGTERM');
      expect(await d.exited()).toBe(0);
      const s1 = summaryOf(d.stderr());
      // Stored on disk = acknowledged: the file position moved, nothing failed.
      expect(s1.events.delivered).toBe(300);
      expect(s1.sinks[0].buffer).toMatchObject({ written: 300, delivered: 0, pending: 300 });
      expect(d.stderr()).toMatch(/"pending":300/);
      const positions = JSON.parse(
        readFileSync(join(dir, 'data', 'state', 'logs', 'positions.json'), 'utf8'),
      );
      expect(Object.values(positions.files)).toMatchObject([
        { offset: readFileSync(join(dir, 'logs', 'a.log')).length },
      ]);

      const up = run(['run', 'up.yaml', '--once', '--json'], dir);
      expect(up.code).toBe(0);
      const s2 = summaryOf(up.stderr);
      expect(s2.events.received).toBe(0); // nothing new in the file
      expect(s2.sinks[0].buffer).toMatchObject({ replayed: 300, delivered: 300, pending: 0 });
      const msgs = archived(join(dir, 'archive')).map((x) => x['@message']);
      expect(new Set(msgs).size).toBe(300);
      expect(msgs).toHaveLength(300);
      // The table names the buffer too.
      const table = run(['run', 'up.yaml', '--once'], dir);
      expect(table.stderr).toMatch(
        /disk buffer +\S+\/data\/state\/out\/buffer\n +0 stored, 0 delivered from it, 0 left for the next start/,
      );
    } finally {
      hung.close();
    }
  });

  it('--once with the sink failing: exits 1 saying the records stay buffered; the next start delivers them', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('unavailable');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as import('node:net').AddressInfo).port;
    const dir = mkdtempSync(join(root, 'once-down-'));
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'logs', 'a.log'), Array.from({ length: 50 }, (_, i) => `later ${i}\n`).join(''));
    const cfg = (sink: string) =>
      [
        'dataDir: ./data',
        'sources:',
        '  logs: { type: file, path: ./logs/*.log, readFromHead: true }',
        'sinks:',
        `  out: { ${sink}, buffer: { type: disk } }`,
        '',
      ].join('\n');
    writeFileSync(
      join(dir, 'down.yaml'),
      cfg(`type: http, flavor: ndjson, url: "http://127.0.0.1:${port}/", maxAgeMs: 50`),
    );
    writeFileSync(join(dir, 'up.yaml'), cfg('type: s3, url: ./archive, maxAgeMs: 50'));
    try {
      // In the background: this process must stay free to answer as the failing sink.
      const d = startDaemon(['run', 'down.yaml', '--once', '--json'], dir);
      const r = { code: await d.exited(), stderr: d.stderr() };
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/50 records are still in disk buffers .*delivered on the next start/);
      const lines = r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{"ok"'));
      expect(JSON.parse(lines[lines.length - 1]).sinks[0].buffer).toMatchObject({ written: 50, pending: 50 });
      const up = run(['run', 'up.yaml', '--once', '--json'], dir);
      expect(up.code).toBe(0);
      expect(summaryOf(up.stderr).sinks[0].buffer).toMatchObject({ replayed: 50, delivered: 50, pending: 0 });
      expect(archived(join(dir, 'archive'))).toHaveLength(50);
    } finally {
      server.close();
    }
  }, 120_000);
});
