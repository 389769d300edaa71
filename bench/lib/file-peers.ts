/**
 * The peers the file benches (bench/file-to-blackhole.ts, bench/file-to-opensearch.ts) run over the
 * same CRI corpus (bench/lib/cri-logs.ts), each a separate process measured by `/usr/bin/time`
 * (wall seconds, peak RSS, user and system CPU) so every figure is taken the same way:
 *
 * - `cat FILES > /dev/null`: the disk/page-cache ceiling;
 * - the naive Node reader (bench/naive/cri-lines.ts): readline + `JSON.parse`, no records;
 * - `logferry run --once` with a generated config (file source `format: cri`, `parse: none`, mask
 *   off, a `parse` transform with the `json` parser: the same decoding as Fluent Bit's);
 * - Fluent Bit (`LOGFERRY_FLUENT_BIT=/path/to/fluent-bit`): `tail` with the built-in `cri`
 *   multiline parser (partial-line reassembly) → `parser` filter with a JSON parser on `log`
 *   (`Reserve_Data On`) → `null`, `Exit_On_Eof On`, `Grace 0`; with stock buffers (32 KiB) and with
 *   `Buffer_Chunk_Size`/`Buffer_Max_Size` 256 KiB; or, beside an OpenSearch subject, the same input
 *   and filter into Fluent Bit's `opensearch` output (`fluentBitOpenSearchOutput`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CriCorpus } from './cri-logs.js';
import { median } from './harness.js';

const ROOT = new URL('../../', import.meta.url).pathname;
export const LOGFERRY_CLI = join(ROOT, 'dist/cli/logferry.mjs');

export interface Measured {
  phase: string;
  wallS: number;
  peakRssMb: number;
  cpuS: number;
  stderr: string;
  stdout: string;
}

export interface PhaseFigures {
  phase: string;
  wallS: number;
  mibPerSec: number;
  linesPerSec: number;
  /** MiB per second of CPU (user + system): steadier than wall time on a loaded machine. */
  mibPerCpuSec: number;
  peakRssMb: number;
  cpuS: number;
  note?: string;
}

/** Runs `cmd args` under `/usr/bin/time`; throws with its stderr when it fails. */
export function measure(
  phase: string,
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Measured {
  const dir = mkdtempSync(join(tmpdir(), 'lf-time-'));
  const out = join(dir, 'time');
  try {
    const r = spawnSync('/usr/bin/time', ['-f', '%e %M %U %S', '-o', out, cmd, ...args], {
      encoding: 'utf8',
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.status !== 0) throw new Error(`${phase} exited with ${r.status}:\n${r.stderr.slice(-4000)}`);
    const [wall, rssKb, user, sys] = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .at(-1)!
      .split(' ')
      .map(Number);
    return {
      phase,
      wallS: wall,
      peakRssMb: Math.round(rssKb / 1024),
      cpuS: +(user + sys).toFixed(2),
      stderr: r.stderr,
      stdout: r.stdout,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function figures(m: Measured, corpus: CriCorpus, note?: string): PhaseFigures {
  const wall = Math.max(m.wallS, 0.01);
  return {
    phase: m.phase,
    wallS: m.wallS,
    mibPerSec: +(corpus.bytes / 1048576 / wall).toFixed(1),
    linesPerSec: Math.round(corpus.lines / wall),
    mibPerCpuSec: +(corpus.bytes / 1048576 / Math.max(m.cpuS, 0.01)).toFixed(1),
    peakRssMb: m.peakRssMb,
    cpuS: m.cpuS,
    ...(note ? { note } : {}),
  };
}

export function catPhase(corpus: CriCorpus): Measured {
  return measure('cat', 'sh', ['-c', 'cat "$@" > /dev/null', 'cat', ...corpus.files]);
}

export function naivePhase(corpus: CriCorpus): Measured {
  // Plain JavaScript, so no TypeScript loader is in its time or memory.
  const m = measure('naive-node', process.execPath, [
    join(ROOT, 'bench/naive/cri-lines.mjs'),
    ...corpus.files,
  ]);
  const got = JSON.parse(m.stdout.trim()) as { lines: number };
  if (got.lines !== corpus.lines) throw new Error(`naive reader: ${got.lines} lines of ${corpus.lines}`);
  return m;
}

/**
 * `logferry run --once` over the corpus with `sink` (a YAML flow mapping), in a fresh data
 * directory; checks that every entry was delivered. `nodeArgs` (e.g. `--cpu-prof`) go to node.
 */
export function logferryPhase(
  corpus: CriCorpus,
  sink: string,
  opts: { phase?: string; nodeArgs?: string[]; readBufferBytes?: number } = {},
): Measured {
  const dir = mkdtempSync(join(tmpdir(), 'lf-filebench-'));
  try {
    const cfg = join(dir, 'logferry.yaml');
    writeFileSync(
      cfg,
      [
        `dataDir: ${join(dir, 'data')}`,
        'parse: none',
        'mask: false',
        'sources:',
        '  - type: file',
        `    path: ${corpus.dir}/*.log`,
        '    readFromHead: true',
        '    format: cri',
        ...(opts.readBufferBytes ? [`    readBufferBytes: ${opts.readBufferBytes}`] : []),
        'transforms:',
        '  - type: parse',
        '    parser: { type: json, prefix: false }',
        'sinks:',
        `  - ${sink}`,
        'deadLetter:',
        '  type: file',
        `  path: ${join(dir, 'dead-letter')}`,
        '',
      ].join('\n'),
    );
    const m = measure(
      opts.phase ?? 'logferry',
      process.execPath,
      [...(opts.nodeArgs ?? []), LOGFERRY_CLI, 'run', '--once', cfg],
      { ...process.env, LOGFERRY_LOG_LEVEL: 'error' },
    );
    const total = /^\s*total\s+([\d,]+)\s+([\d,]+)/m.exec(m.stderr);
    const delivered = total ? Number(total[2].replace(/,/g, '')) : -1;
    if (delivered !== corpus.entries)
      throw new Error(
        `logferry delivered ${delivered} of ${corpus.entries} entries:\n${m.stderr.slice(-3000)}`,
      );
    return m;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A Fluent Bit `[OUTPUT]` for `fluentBitPhase` (default: `null`) and the phase's name suffix. */
export interface FluentBitOutput {
  /** Appended to the phase name (`fluent-bit-256k` + `-opensearch`). */
  suffix: string;
  /** The `[OUTPUT]` section's lines after `Name`/`Match`. */
  lines: string[];
  name: string;
  /** Seconds Fluent Bit may take after EOF to flush what it holds (`Grace`). */
  graceS: number;
  /** Keep the raw `log` beside the parsed fields (as logferry's `@message`). */
  preserveKey?: boolean;
}

/**
 * Fluent Bit's `opensearch` output to `url`'s `index` as logferry's sink writes it: `create` with a
 * generated `_id` (`Generate_ID On`, so the node checks ids as it does for logferry's stable ids),
 * no `_type`, `@timestamp`, the raw line kept beside the parsed fields (`Preserve_Key On`, logferry's
 * `@message`), retried on failure (`Retry_Limit 10`; the bench counts the documents afterwards).
 */
export function fluentBitOpenSearchOutput(url: string, index: string): FluentBitOutput {
  const u = new URL(url);
  return {
    suffix: '-opensearch',
    name: 'opensearch',
    graceS: 600,
    preserveKey: true,
    lines: [
      `    Host  ${u.hostname}`,
      `    Port  ${u.port || (u.protocol === 'https:' ? '443' : '80')}`,
      `    Index ${index}`,
      '    Suppress_Type_Name On',
      '    Generate_ID On',
      '    Write_Operation create',
      '    Time_Key @timestamp',
      '    Buffer_Size 1MB',
      '    Retry_Limit 10',
    ],
  };
}

const NULL_OUTPUT: FluentBitOutput = { suffix: '', name: 'null', lines: [], graceS: 0 };

/**
 * Fluent Bit `tail` (CRI multiline parser) → `parser` json filter → `output` (default `null`);
 * undefined when `LOGFERRY_FLUENT_BIT` is not set.
 */
export function fluentBitPhase(
  corpus: CriCorpus,
  bufferKiB: number | undefined,
  output: FluentBitOutput = NULL_OUTPUT,
): Measured | undefined {
  const bin = process.env.LOGFERRY_FLUENT_BIT;
  if (!bin) return undefined;
  const phase = `${bufferKiB === undefined ? 'fluent-bit-stock' : `fluent-bit-${bufferKiB}k`}${output.suffix}`;
  if (!hasOutputPlugin(bin, output.name)) {
    skipped.set(phase, `skipped (${bin} was built without the ${output.name} output)`);
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'lf-fluentbit-'));
  try {
    writeFileSync(
      join(dir, 'parsers.conf'),
      ['[PARSER]', '    Name   json', '    Format json', ''].join('\n'),
    );
    const buf =
      bufferKiB === undefined
        ? []
        : [`    Buffer_Chunk_Size ${bufferKiB}k`, `    Buffer_Max_Size   ${bufferKiB}k`];
    writeFileSync(
      join(dir, 'fluent-bit.conf'),
      [
        '[SERVICE]',
        '    Flush        1',
        `    Grace        ${output.graceS}`,
        '    Log_Level    warn',
        `    Parsers_File ${join(dir, 'parsers.conf')}`,
        '[INPUT]',
        '    Name             tail',
        `    Path             ${corpus.dir}/*.log`,
        '    Read_from_Head   On',
        '    Exit_On_Eof      On',
        '    multiline.parser cri',
        ...buf,
        '[FILTER]',
        '    Name         parser',
        '    Match        *',
        '    Key_Name     log',
        '    Parser       json',
        '    Reserve_Data On',
        ...(output.preserveKey ? ['    Preserve_Key On'] : []),
        '[OUTPUT]',
        `    Name  ${output.name}`,
        '    Match *',
        ...output.lines,
        '',
      ].join('\n'),
    );
    return measure(phase, bin, ['-c', join(dir, 'fluent-bit.conf')]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const FLUENT_BIT_SKIPPED = 'skipped (set LOGFERRY_FLUENT_BIT)';

/** Why a phase that returned undefined was skipped, when not for want of `LOGFERRY_FLUENT_BIT`. */
const skipped = new Map<string, string>();

/** Whether Fluent Bit `bin` lists output plugin `name` in its `-h` (a minimal build has few). */
function hasOutputPlugin(bin: string, name: string): boolean {
  if (name === 'null') return true;
  const help = spawnSync(bin, ['-h'], { encoding: 'utf8' });
  const outputs = `${help.stdout}${help.stderr}`.split(/Outputs/)[1]?.split(/\n\S/)[0] ?? '';
  return new RegExp(`^\\s+${name}\\s`, 'm').test(outputs);
}

export type PhaseRow = PhaseFigures | { phase: string; skipped: string };

/**
 * Runs every phase `runs` times (order reversed on odd runs, so background load falls on all
 * alike) and reports each phase's median run (peak RSS: the highest); a phase that returns
 * undefined (Fluent Bit without `LOGFERRY_FLUENT_BIT`) is reported as skipped.
 */
export async function runPhases(
  phases: Record<string, () => Measured | undefined | Promise<Measured | undefined>>,
  runs: number,
  corpus: CriCorpus,
): Promise<PhaseRow[]> {
  const names = Object.keys(phases);
  const got = new Map<string, Measured[]>(names.map((n) => [n, []]));
  for (let i = 0; i < runs; i++) {
    for (const n of i % 2 === 0 ? names : [...names].reverse()) {
      const m = await phases[n]();
      if (m) got.get(n)?.push(m);
      process.stderr.write(
        m ? `  ${n}: ${m.wallS} s, ${m.peakRssMb} MB\n` : `  ${n}: ${skipped.get(n) ?? FLUENT_BIT_SKIPPED}\n`,
      );
    }
  }
  return names.map((n) => {
    const ms = got.get(n) ?? [];
    if (ms.length === 0) return { phase: n, skipped: skipped.get(n) ?? FLUENT_BIT_SKIPPED };
    const wall = median(ms.map((m) => m.wallS));
    const m = ms.find((x) => x.wallS === wall) as Measured;
    return { ...figures(m, corpus), peakRssMb: Math.max(...ms.map((x) => x.peakRssMb)) };
  });
}

/** The figures of phase `name`, if it ran. */
export function row(rows: PhaseRow[], name: string): PhaseFigures | undefined {
  return rows.find((p): p is PhaseFigures => p.phase === name && 'mibPerSec' in p);
}

/** `of`'s throughput over `to`'s, by wall time or by CPU time; null when `to` did not run. */
export function ratioOf(
  rows: PhaseRow[],
  of: string,
  to: string,
  by: 'wall' | 'cpu' = 'wall',
): number | null {
  const a = row(rows, of);
  const b = row(rows, to);
  if (!a || !b) return null;
  return by === 'wall'
    ? +(a.mibPerSec / b.mibPerSec).toFixed(2)
    : +(a.mibPerCpuSec / b.mibPerCpuSec).toFixed(2);
}

export function printRows(rows: PhaseRow[]): void {
  for (const p of rows) {
    if ('skipped' in p) console.log(`${p.phase.padEnd(20)} ${p.skipped}`);
    else
      console.log(
        `${p.phase.padEnd(20)} ${String(p.mibPerSec).padStart(7)} MiB/s ${String(p.linesPerSec).padStart(9)} lines/s  wall ${p.wallS} s  cpu ${p.cpuS} s (${p.mibPerCpuSec} MiB/cpu-s)  peak RSS ${p.peakRssMb} MB`,
      );
  }
}

/** The corpus as the results files describe it. */
export function corpusSummary(corpus: CriCorpus, seed: number) {
  return {
    seed,
    files: corpus.files.length,
    mib: +(corpus.bytes / 1048576).toFixed(1),
    lines: corpus.lines,
    entries: corpus.entries,
    jsonEntries: corpus.jsonEntries,
  };
}

/**
 * The subject phase's ratio to each peer (cat by wall time only); `peerSuffix` names the Fluent Bit
 * peers' keys when they ran a different output (`ToNull` beside an OpenSearch subject).
 */
export function peerRatios(rows: PhaseRow[], subject: string, by: 'wall' | 'cpu', peerSuffix = '') {
  return {
    cat: by === 'wall' ? ratioOf(rows, subject, 'cat') : undefined,
    naiveNode: ratioOf(rows, subject, 'naive-node', by),
    [`fluentBitStock${peerSuffix}`]: ratioOf(rows, subject, 'fluent-bit-stock', by),
    [`fluentBit256k${peerSuffix}`]: ratioOf(rows, subject, 'fluent-bit-256k', by),
  };
}
