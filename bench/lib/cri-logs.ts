/**
 * Realistic Kubernetes CRI container log files for the file benches (bench/file-to-*.ts): what
 * containerd leaves under `/var/log/containers/<pod>_<namespace>_<container>-<64 hex>.log`, one
 * `<RFC3339Nano> <stdout|stderr> <P|F> <text>` line per write. Messages come from bench/data.ts
 * (kube-apiserver audit JSON, klog lines of the control-plane components, authenticator logfmt, ECS
 * text, Lambda JSON app lines) plus structured JSON app lines (pino/zap style) — roughly half JSON,
 * half text — and now and then a message longer than containerd's 16 KiB buffer, written as `P`
 * pieces ending with an `F` piece. Deterministic: the same seed and size give the same bytes.
 *
 * The files are written once into `~/.cache/logferry-bench/cri-v<VERSION>-s<seed>-<MB>mb/` (never
 * into the repository); a directory that exists is reused. Bump `VERSION` when the shape changes.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { events, rng, type StreamKind } from '../data.js';

// 2: entry texts from the one data generator (src/sources/log-generator.ts).
const VERSION = 2;
/** containerd's line buffer: longer writes become `P` pieces of this size. */
const CRI_PIECE = 16 * 1024;

export interface CriCorpus {
  dir: string;
  files: string[];
  bytes: number;
  /** Physical lines (P and F pieces). */
  lines: number;
  /** Log entries after partial reassembly (what a CRI reader should emit). */
  entries: number;
  /** Entries whose text is a JSON object. */
  jsonEntries: number;
}

interface Container {
  pod: string;
  ns: string;
  name: string;
  kinds: StreamKind[];
  json: boolean;
}

const CONTAINERS: Container[] = [
  {
    pod: 'kube-apiserver-ip-10-0-1-23.ec2.internal',
    ns: 'kube-system',
    name: 'kube-apiserver',
    kinds: ['kube-apiserver', 'kube-apiserver-audit'],
    json: false,
  },
  { pod: 'orders-api-7d9f8c6b5-x2klp', ns: 'payments', name: 'orders-api', kinds: [], json: true },
  {
    pod: 'kube-controller-manager-ip-10-0-1-23.ec2.internal',
    ns: 'kube-system',
    name: 'kube-controller-manager',
    kinds: ['kube-controller-manager', 'cloud-controller-manager'],
    json: false,
  },
  { pod: 'checkout-web-5b8d7f9c4-q8wzt', ns: 'checkout', name: 'web', kinds: ['ecs', 'lambda'], json: true },
  {
    pod: 'aws-iam-authenticator-ip-10-0-1-23',
    ns: 'kube-system',
    name: 'aws-iam-authenticator',
    kinds: ['authenticator', 'generic'],
    json: false,
  },
  {
    pod: 'kube-scheduler-ip-10-0-1-23.ec2.internal',
    ns: 'kube-system',
    name: 'kube-scheduler',
    kinds: ['kube-scheduler'],
    json: false,
  },
  { pod: 'inventory-worker-6c4b9d8f7-m3nbv', ns: 'checkout', name: 'worker', kinds: ['generic'], json: true },
  { pod: 'audit-shipper-0', ns: 'monitoring', name: 'shipper', kinds: ['kube-apiserver-audit'], json: true },
];

const hex = (r: () => number, n: number) => {
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(r() * 16)];
  return s;
};

const ROUTES = [
  '/api/orders',
  '/api/orders/:id',
  '/api/cart',
  '/healthz',
  '/api/payments/authorize',
  '/metrics',
];
const LEVELS = ['info', 'info', 'info', 'info', 'debug', 'warn', 'error'];

/** A structured app log line (pino/zap style JSON), sometimes with a long stack or payload. */
function appJson(r: () => number, ts: number, long: boolean): string {
  const level = LEVELS[Math.floor(r() * LEVELS.length)];
  const rec: Record<string, unknown> = {
    level,
    ts: ts / 1000,
    caller: `handler/${['orders', 'cart', 'pay'][Math.floor(r() * 3)]}.go:${Math.floor(r() * 400) + 10}`,
    msg: level === 'error' ? 'request failed' : 'request completed',
    method: ['GET', 'POST', 'PUT'][Math.floor(r() * 3)],
    route: ROUTES[Math.floor(r() * ROUTES.length)],
    status: level === 'error' ? 500 : 200,
    latency_ms: Math.round(r() * 25000) / 100,
    trace_id: hex(r, 32),
    span_id: hex(r, 16),
    user_agent:
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
  };
  if (level === 'error')
    rec.stacktrace = Array.from(
      { length: 8 + Math.floor(r() * 12) },
      (_, i) => `main.(*Server).handle${i}(0xc000${hex(r, 6)})\n\t/app/internal/server/handler.go:${100 + i}`,
    ).join('\n');
  // A bulk payload dumped into the log: longer than containerd's buffer → P pieces.
  if (long)
    rec.payload = Array.from({ length: 200 + Math.floor(r() * 400) }, () => ({
      sku: hex(r, 12),
      qty: Math.floor(r() * 9) + 1,
    }));
  return JSON.stringify(rec);
}

function cacheRoot(): string {
  return process.env.LOGFERRY_BENCH_CACHE ?? join(homedir(), '.cache', 'logferry-bench');
}

/**
 * The corpus of about `totalMb` MiB in `CONTAINERS.length` files; generated on first use, then
 * read from the cache (its counts from the `.done` marker).
 */
export function criCorpus(opts: { seed: number; totalMb: number }): CriCorpus {
  const dir = join(cacheRoot(), `cri-v${VERSION}-s${opts.seed}-${opts.totalMb}mb`);
  const marker = join(dir, '.done.json');
  if (existsSync(marker)) {
    const c = JSON.parse(readFileSync(marker, 'utf8')) as Omit<CriCorpus, 'dir' | 'files'>;
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.log'))
      .sort()
      .map((f) => join(dir, f));
    return { dir, files, ...c };
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const r = rng(opts.seed);
  const perFile = Math.ceil((opts.totalMb * 1024 * 1024) / CONTAINERS.length);
  let lines = 0;
  let entries = 0;
  let jsonEntries = 0;
  let bytes = 0;
  const names: string[] = [];
  for (const c of CONTAINERS) {
    const name = `${c.pod}_${c.ns}_${c.name}-${hex(r, 64)}.log`;
    names.push(name);
    const fd = openSync(join(tmp, name), 'w');
    let ts = Date.UTC(2026, 10, 22, 0, 0, 0);
    let nanos = 0;
    let written = 0;
    let chunk = '';
    while (written < perFile) {
      ts += Math.floor(r() * 5);
      nanos = Math.floor(r() * 1e6);
      const time = `${new Date(ts).toISOString().slice(0, 23)}${String(nanos).padStart(6, '0')}Z`;
      const stream = r() < 0.9 ? 'stdout' : 'stderr';
      let text: string;
      if (c.json && (c.kinds.length === 0 || r() < 0.6)) {
        text = appJson(r, ts, r() < 0.005);
        jsonEntries++;
      } else {
        const kind = c.kinds[Math.floor(r() * c.kinds.length)];
        text = events(kind, 1, r, ts)[0].message.replace(/\n$/, '');
        if (text.charCodeAt(0) === 123) jsonEntries++;
      }
      entries++;
      // Split at containerd's buffer size (by UTF-16 units; the generated text is ASCII).
      for (let at = 0; ; at += CRI_PIECE) {
        const last = at + CRI_PIECE >= text.length;
        const line = `${time} ${stream} ${last ? 'F' : 'P'} ${text.slice(at, at + CRI_PIECE)}\n`;
        chunk += line;
        written += line.length;
        lines++;
        if (last) break;
      }
      if (chunk.length >= 1 << 20) {
        writeSync(fd, chunk);
        chunk = '';
      }
    }
    if (chunk.length > 0) writeSync(fd, chunk);
    closeSync(fd);
    bytes += written;
  }
  const counts = { bytes, lines, entries, jsonEntries };
  writeFileSync(join(tmp, '.done.json'), JSON.stringify(counts));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return { dir, files: names.sort().map((n) => join(dir, n)), ...counts };
}
