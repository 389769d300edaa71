/**
 * `kill -9` of a `logferry run` aggregator while a forward client streams acknowledged chunks: the
 * client (written from the forward protocol spec, resending every chunk it has no ack for when its
 * connection drops, as Fluent Bit and Fluentd do with acks on) reconnects to the restarted
 * process, and every record reaches the NDJSON receiver — acks are only sent after delivery, so a
 * crash can duplicate (a resent chunk whose records were already delivered: same record ids) but
 * never lose.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decoder, encode } from '@msgpack/msgpack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCliBundle } from './infra/cli-bundle.js';
import { type NdjsonServer, startNdjsonServer } from './infra/http-log-services.js';
import { waitFor } from './infra/net-sources.js';
import { freePort } from './infra/process.js';

const CHUNKS = 300;
const PER_CHUNK = 10;
const WINDOW = 16;

const root = new URL('..', import.meta.url).pathname;
/** Inside the checkout so the bundle resolves its packages from node_modules. */
const bundleDir = join(root, 'node_modules', '.cache', `logferry-forward-crash-${process.pid}`);
let dir: string;
let receiver: NdjsonServer;
let port: number;
/** The aggregators' stderr (progress, summaries), shown when a wait times out. */
let stderr = '';
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'logferry-forward-crash-'));
  await buildCliBundle(bundleDir);
  receiver = await startNdjsonServer();
  port = await freePort();
  writeFileSync(
    join(dir, 'logferry.yaml'),
    `sources:
  agents: { type: forward, port: ${port}, tag: 'app.*' }
sinks:
  out: { type: http, flavor: ndjson, url: '${receiver.url}', maxAgeMs: 100 }
`,
  );
}, 120_000);
afterAll(async () => {
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(bundleDir, { recursive: true, force: true });
});

function start(): ChildProcess {
  const p = spawn(process.execPath, [join(bundleDir, 'cli', 'logferry.mjs'), 'run', 'logferry.yaml'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  p.stderr?.on('data', (d) => {
    stderr += d;
  });
  return p;
}

/** A forward client that keeps every chunk until acked and resends the unacked ones on reconnect. */
class ResendingClient {
  private readonly chunks = new Map<string, Buffer>();
  private sock: Socket | undefined;
  private sent = new Set<string>();
  acked = 0;
  resent = 0;
  reconnects = 0;
  constructor(all: [string, Buffer][]) {
    for (const [id, msg] of all) this.chunks.set(id, msg);
  }
  async run(): Promise<void> {
    while (this.chunks.size > 0) {
      const s = await this.connect();
      await new Promise<void>((resolve) => {
        const dec = new Decoder();
        let pending = Buffer.alloc(0);
        const pump = () => {
          for (const [id, msg] of this.chunks) {
            if (this.sent.size >= WINDOW) break;
            if (this.sent.has(id)) continue;
            this.sent.add(id);
            s.write(msg);
          }
          if (this.chunks.size === 0) resolve();
        };
        s.on('data', (d: Buffer) => {
          pending = Buffer.concat([pending, d]);
          try {
            for (const a of dec.decodeMulti(pending)) {
              const id = (a as { ack: string }).ack;
              if (this.chunks.delete(id)) this.acked++;
              this.sent.delete(id);
            }
            pending = Buffer.alloc(0);
          } catch {
            // an ack split across segments
          }
          pump();
        });
        s.on('error', () => {});
        s.on('close', () => {
          // Everything sent and not acked goes again on the next connection.
          this.resent += this.sent.size;
          this.sent = new Set();
          resolve();
        });
        pump();
      });
      s.destroy();
    }
  }
  private async connect(): Promise<Socket> {
    for (;;) {
      const s = connect(port, '127.0.0.1');
      const ok = await new Promise<boolean>((r) => {
        s.once('connect', () => r(true));
        s.once('error', () => r(false));
      });
      if (ok) {
        this.sock = s;
        return s;
      }
      this.reconnects++;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe('forward source: kill -9 under load', () => {
  it('every record of every chunk arrives after the aggregator is killed and restarted (duplicates only)', async () => {
    const all: [string, Buffer][] = [];
    for (let c = 0; c < CHUNKS; c++) {
      const entries = Array.from({ length: PER_CHUNK }, (_, i) => [
        1_700_000_000 + c,
        { log: `c${c}-r${i}` },
      ]);
      all.push([`chunk-${c}`, Buffer.from(encode(['app.web', entries, { chunk: `chunk-${c}` }]))]);
    }
    let proc = start();
    const client = new ResendingClient(all);
    const done = client.run();
    await waitFor(() => client.acked >= 60, 'some chunks acked', 60_000).catch((e) => {
      throw new Error(`${(e as Error).message}; logferry stderr:\n${stderr.slice(-3000)}`);
    });
    proc.kill('SIGKILL');
    await new Promise((r) => proc.once('exit', r));
    const killedAt = client.acked;
    proc = start();
    try {
      await done;
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
    expect(killedAt).toBeLessThan(CHUNKS);
    expect(client.resent + client.reconnects).toBeGreaterThan(0);
    const messages = new Set(receiver.docs.map((d) => String(d['@message'])));
    for (let c = 0; c < CHUNKS; c++)
      for (let i = 0; i < PER_CHUNK; i++) expect(messages.has(`c${c}-r${i}`)).toBe(true);
    // A duplicate is a record of a chunk resent after delivery: it carries the same id.
    const ids = receiver.docs.map((d) => String(d['@id']));
    expect(new Set(ids).size).toBe(CHUNKS * PER_CHUNK);
  }, 120_000);
});
