/**
 * `logferry replay <dead-letter location> --config <cfg>`: re-runs dead-lettered entries through a
 * config's pipeline (parse, mask, transforms, routes, sinks) once their cause is fixed (a mapping
 * corrected, a permission granted, a bug in a transform fixed), with the same accounting as `run`:
 * the summary (table, or `--json`), exit 1 when records failed, exit 2 for a bad config or location.
 *
 * Locations: a dead-letter file or directory (the `file` store's NDJSON; `file://` optional), an SQS
 * queue URL (the `sqs` store; entries behind an S3 overflow pointer are fetched), or `s3://bucket/
 * prefix` (any sink used as the dead-letter store: objects of JSON lines, gzip or not, raw or as
 * archive documents whose `@message` is the entry).
 *
 * Each entry becomes one envelope, and nothing is dropped silently: a record entry (`record`, or the
 * safe form's `messageBase64`) is replayed from its original message and provenance (log group,
 * stream, event id — so sinks that dedupe by id still do); a whole malformed envelope (`payload`,
 * base64 of what arrived) is decoded again; a line that is not an entry becomes a `rejected
 * DEAD_LETTER_UNREADABLE` record. Whatever fails again goes to the configured dead-letter store with
 * its new reason. SQS messages are deleted once their entry settled (anything but `failed`); file
 * and S3 entries are left in place (the summary says so). `--dry-run` lists the entries (NDJSON on
 * stdout) and changes nothing.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Command } from 'commander';
import { classifyStream, componentLabel } from '../../aws/classify.js';
import { clientConfig } from '../../aws/clients.js';
import { decodeBase64Payload, toRecords } from '../../aws/cloudwatch-payload.js';
import { secretContext, sharedSecretResolver } from '../../aws/secrets.js';
import { buildSinks, sourceNodes, withDefaults } from '../../config/build.js';
import { buildGraphTransforms, buildTransforms } from '../../config/build-pipeline.js';
import { parseConfigText, readConfigFile, validateConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { applyShorthands } from '../../config/shorthands.js';
import type { Logger } from '../../core/component.js';
import { runDaemon } from '../../core/daemon.js';
import type { DeadLetter } from '../../core/dead-letter.js';
import { describeError, LogferryError } from '../../core/errors.js';
import { fileKind } from '../../core/file-kind.js';
import { jsonLogger } from '../../core/logger.js';
import type { Outcome } from '../../core/outcome.js';
import type { LogRecord } from '../../core/record.js';
import type { Source, SourceEnvelope } from '../../core/source.js';
import { buildSummary, describeDeadLetter, formatSummary } from './run.js';

export interface ReplayOptions {
  config: string;
  dryRun?: boolean;
  json?: boolean;
  /** Graph source the replayed records enter as (default: by the entry's source type). */
  source?: string;
  /** SQS: seconds a received message stays invisible while it is replayed. */
  visibilityTimeout?: string;
}

/** One dead-letter entry as read, with where it came from. */
export interface ReadEntry {
  /** `path:line`, the SQS message id, or `s3://bucket/key:line`. */
  location: string;
  /** The parsed entry, or undefined when the line is not an entry. */
  entry?: Partial<DeadLetter> & Record<string, unknown>;
  /** The text as read (kept for unreadable lines). */
  raw: string;
  /** Why the line is not an entry. */
  unreadable?: string;
  /** SQS receipt handle (to delete the message once settled). */
  receipt?: string;
}

export const UNREADABLE = 'DEAD_LETTER_UNREADABLE';
export const NO_PAYLOAD = 'DEAD_LETTER_NO_PAYLOAD';

/** Parses one JSON line of a dead-letter store: an entry, or an archive document holding one. */
export function parseEntryLine(text: string, location: string): ReadEntry {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { location, raw: text, unreadable: `not JSON (${describeError(e)})` };
  }
  // A sink in the dead-letter role stores the entry as a record's message: in the archive's
  // document form that is `@message`.
  if (v && typeof v === 'object' && typeof (v as Record<string, unknown>)['@message'] === 'string') {
    return parseEntryLine((v as Record<string, string>)['@message'], location);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v) || typeof (v as { code?: unknown }).code !== 'string')
    return { location, raw: text, unreadable: 'not a dead-letter entry (no "code")' };
  return { location, raw: text, entry: v as ReadEntry['entry'] };
}

/** What an entry holds, for `--dry-run` and the summary. */
export function entryKind(e: ReadEntry): 'record' | 'payload' | 'overflow' | 'unreadable' | 'empty' {
  if (!e.entry) return 'unreadable';
  if (e.entry.overflow) return 'overflow';
  if (e.entry.record || typeof e.entry.messageBase64 === 'string') return 'record';
  if (typeof e.entry.payload === 'string') return 'payload';
  return 'empty';
}

/**
 * The envelope an entry is replayed as. Never throws: anything that cannot be replayed becomes a
 * malformed envelope (rejected, to the dead-letter store again with the reason).
 */
export function envelopeOf(r: ReadEntry): SourceEnvelope {
  const ackId = r.location;
  const bytes = Buffer.byteLength(r.raw);
  const e = r.entry;
  if (!e)
    return {
      ackId,
      records: [],
      bytes,
      malformed: {
        code: UNREADABLE,
        reason: `${r.location}: ${r.unreadable ?? 'unreadable'}`,
        payload: Buffer.from(r.raw).toString('base64'),
      },
    };
  const rec = e.record as (Partial<LogRecord> & { meta?: Partial<LogRecord['meta']> }) | undefined;
  const message =
    typeof rec?.message === 'string'
      ? rec.message
      : typeof e.messageBase64 === 'string'
        ? Buffer.from(e.messageBase64, 'base64').toString('utf8')
        : undefined;
  if (message !== undefined) {
    const t = typeof rec?.timestamp === 'number' ? rec.timestamp : Number(e.timestamp);
    const at = typeof e.at === 'string' ? Date.parse(e.at) : Number.NaN;
    const logGroup = String(e.logGroup ?? rec?.meta?.logGroup ?? '(replay)');
    const record: LogRecord = {
      timestamp: Number.isFinite(t) ? t : Number.isFinite(at) ? at : Date.now(),
      message,
      // Replayed from the message: parse, mask and transforms run again as for a new record.
      fields: {},
      meta: {
        owner: String(rec?.meta?.owner ?? ''),
        logGroup,
        logStream: String(e.logStream ?? rec?.meta?.logStream ?? ''),
        id: String(e.id ?? rec?.meta?.id ?? ackId),
        source: String(e.source ?? rec?.meta?.source ?? 'replay'),
        ackId,
      },
    };
    return { ackId, records: [record], logGroup, bytes };
  }
  if (typeof e.payload === 'string') {
    const decoded = decodeBase64Payload(e.payload);
    if (!decoded.ok)
      return {
        ackId,
        records: [],
        bytes,
        malformed: { code: decoded.code, reason: `replayed: ${decoded.reason}`, payload: e.payload },
      };
    const msg = decoded.message;
    if (msg.messageType === 'CONTROL_MESSAGE') return { ackId, records: [], bytes, control: true };
    return {
      ackId,
      records: toRecords(msg, String(e.source ?? 'replay'), ackId),
      logGroup: msg.logGroup,
      bytes,
    };
  }
  return {
    ackId,
    records: [],
    bytes,
    malformed: {
      code: NO_PAYLOAD,
      reason: `${r.location}: the entry (${String(e.code)}) holds neither a record nor a payload to replay`,
      payload: Buffer.from(r.raw).toString('base64'),
    },
  };
}

// ── Reading locations ──────────────────────────────────────────────────────────────────────────

export type Location =
  | { kind: 'file'; path: string }
  | { kind: 'sqs'; queueUrl: string }
  | { kind: 's3'; bucket: string; prefix: string };

export function parseLocation(text: string): Location {
  const t = text.trim();
  if (/^s3:\/\//.test(t)) {
    const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(t);
    if (!m) throw new LogferryError('CONFIG_INVALID', `"${t}" is not an s3://bucket/prefix location`);
    return { kind: 's3', bucket: m[1], prefix: m[2] ?? '' };
  }
  if (/^https?:\/\//.test(t)) return { kind: 'sqs', queueUrl: t };
  return { kind: 'file', path: resolve(t.replace(/^file:\/\//, '')) };
}

function lines(text: string, where: string): ReadEntry[] {
  const out: ReadEntry[] = [];
  const ls = text.split('\n');
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i].trim();
    if (l) out.push(parseEntryLine(l, `${where}:${i + 1}`));
  }
  return out;
}

function readFileLocation(path: string): ReadEntry[] {
  let files: string[];
  try {
    const st = statSync(path);
    // A device or FIFO would be read forever (or wait forever): only files and directories of them.
    if (!st.isDirectory() && !st.isFile()) throw new Error(`it is ${fileKind(st)}, not a file or directory`);
    files = st.isDirectory()
      ? readdirSync(path)
          .filter((f) => /\.(nd)?jsonl?$/.test(f))
          .sort()
          .map((f) => join(path, f))
          .filter((f) => statSync(f).isFile())
      : [path];
  } catch (e) {
    throw new LogferryError(
      'CONFIG_INVALID',
      `cannot read the dead-letter location ${path}: ${describeError(e)}`,
    );
  }
  return files.flatMap((f) => {
    let buf = readFileSync(f);
    if (buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
    return lines(buf.toString('utf8'), f);
  });
}

async function readS3(s3: S3Client, bucket: string, prefix: string): Promise<ReadEntry[]> {
  const out: ReadEntry[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) {
      if (!o.Key || o.Key.endsWith('/')) continue;
      const body = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }));
      let buf = Buffer.from(await body.Body!.transformToByteArray());
      if (buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
      out.push(...lines(buf.toString('utf8'), `s3://${bucket}/${o.Key}`));
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** Replaces SQS overflow pointers by the full entries stored in S3. */
async function resolveOverflow(entries: ReadEntry[], s3: () => S3Client): Promise<void> {
  for (const r of entries) {
    const ov = r.entry?.overflow as { bucket?: string; key?: string } | undefined;
    if (!ov?.bucket || !ov.key) continue;
    try {
      const body = await s3().send(new GetObjectCommand({ Bucket: ov.bucket, Key: ov.key }));
      const full = parseEntryLine(await body.Body!.transformToString(), r.location);
      r.entry = full.entry;
      r.unreadable = full.unreadable;
      r.raw = full.raw;
    } catch (e) {
      r.entry = undefined;
      r.unreadable = `its overflow object s3://${ov.bucket}/${ov.key} cannot be read: ${describeError(e)}`;
    }
  }
}

async function receiveAll(sqs: SQSClient, queueUrl: string, visibility: number): Promise<ReadEntry[]> {
  const out: ReadEntry[] = [];
  const seen = new Set<string>();
  for (let empty = 0; empty < 2; ) {
    const r = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: visibility,
        WaitTimeSeconds: 0,
      }),
    );
    const msgs = (r.Messages ?? []).filter((m) => m.MessageId && !seen.has(m.MessageId));
    if (msgs.length === 0) {
      empty++;
      continue;
    }
    for (const m of msgs) {
      seen.add(m.MessageId!);
      out.push({ ...parseEntryLine(m.Body ?? '', `sqs:${m.MessageId}`), receipt: m.ReceiptHandle });
    }
  }
  return out;
}

// ── The replay source ──────────────────────────────────────────────────────────────────────────

/** Entries as envelopes of one graph source; acknowledging settles SQS messages. */
export class ReplaySource implements Source {
  readonly type = 'replay';
  readonly outcomes = new Map<string, Outcome>();
  readonly expected: number;
  private readonly receipts = new Map<string, string>();
  constructor(
    readonly name: string,
    private readonly entries: readonly ReadEntry[],
    private readonly settle?: (receipt: string) => Promise<void>,
  ) {
    this.expected = entries.length;
    for (const e of entries) if (e.receipt) this.receipts.set(e.location, e.receipt);
  }
  async *envelopes(signal: AbortSignal): AsyncIterable<SourceEnvelope> {
    for (const e of this.entries) {
      if (signal.aborted) return;
      yield envelopeOf(e);
    }
  }
  async ack(env: SourceEnvelope, outcome: Outcome): Promise<void> {
    this.outcomes.set(env.ackId, outcome);
    const receipt = this.receipts.get(env.ackId);
    // A failed entry stays in the queue (it becomes visible again); any other outcome is settled.
    if (receipt && outcome.kind !== 'failed' && this.settle) await this.settle(receipt);
  }
}

/** The graph source an entry enters as: `--source`, else the configured source of its type, else the first. */
export function sourceFor(cfg: Config, entry: ReadEntry, override?: string): string {
  const nodes = sourceNodes(cfg);
  if (override) return override;
  const type = String(entry.entry?.source ?? '');
  const alias = type === 'kinesis-event' ? 'kinesis' : type;
  const i = cfg.sources.findIndex((s) => s.type === alias);
  return (i >= 0 ? nodes[i] : nodes[0])?.name ?? 'replay';
}

function loadConfig(path: string): { cfg: Config; cwd: string } {
  const text = readConfigFile(path);
  const doc = parseConfigText(text, path);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new LogferryError(
      'CONFIG_INVALID',
      `${path} is invalid: the top level must be a mapping (sources:, sinks:, …)`,
    );
  const cwd = dirname(resolve(path));
  const full = withDefaults(applyShorthands(doc as Record<string, unknown>, process.env), {
    dataDir: resolve(cwd, 'logferry-data'),
  });
  return { cfg: validateConfig(full, path), cwd };
}

function stderrLogger(): Logger {
  return jsonLogger({}, process.env.LOGFERRY_LOG_LEVEL ?? 'warn', (line) => process.stderr.write(line));
}

export async function replay(locationText: string, opts: ReplayOptions): Promise<void> {
  const location = parseLocation(locationText);
  const { cfg, cwd } = loadConfig(opts.config);
  if (opts.source && !sourceNodes(cfg).some((n) => n.name === opts.source))
    throw new LogferryError(
      'CONFIG_INVALID',
      `--source ${opts.source}: the config has no source of that name`,
    );
  const visibility = Number(opts.visibilityTimeout ?? 300);
  if (!Number.isInteger(visibility) || visibility < 1 || visibility > 43_200)
    throw new LogferryError('CONFIG_INVALID', '--visibility-timeout must be whole seconds from 1 to 43200');

  let s3: S3Client | undefined;
  const s3Client = () => {
    s3 ??= new S3Client(clientConfig('s3', { maxAttempts: 3 }));
    return s3;
  };
  let sqs: SQSClient | undefined;
  const queueRegion = (u: string) => /^https:\/\/sqs[.-]([a-z0-9-]+)\.amazonaws\.com/.exec(u)?.[1];
  let entries: ReadEntry[];
  try {
    if (location.kind === 'file') entries = readFileLocation(location.path);
    else if (location.kind === 's3') entries = await readS3(s3Client(), location.bucket, location.prefix);
    else {
      sqs = new SQSClient(clientConfig('sqs', { maxAttempts: 3, region: queueRegion(location.queueUrl) }));
      entries = await receiveAll(sqs, location.queueUrl, opts.dryRun ? 30 : visibility);
    }
    await resolveOverflow(entries, s3Client);
  } catch (e) {
    sqs?.destroy();
    s3?.destroy();
    if (e instanceof LogferryError) throw e;
    throw new LogferryError(
      'SOURCE_FAILED',
      `cannot read dead letters from ${locationText}: ${describeError(e)}`,
    );
  }

  if (opts.dryRun) {
    const byKind: Record<string, number> = {};
    for (const r of entries) {
      const kind = entryKind(r);
      byKind[kind] = (byKind[kind] ?? 0) + 1;
      const env = envelopeOf(r);
      process.stdout.write(
        `${JSON.stringify({
          location: r.location,
          kind,
          code: r.entry?.code,
          reason: r.entry?.reason ?? r.unreadable,
          logGroup: env.logGroup ?? r.entry?.logGroup,
          id: r.entry?.id,
          source: sourceFor(cfg, r, opts.source),
          records: env.records.length,
          replayAs: env.malformed
            ? `rejected ${env.malformed.code}`
            : env.control
              ? 'dropped CONTROL_MESSAGE'
              : 'records',
        })}\n`,
      );
    }
    // Received messages become visible again at once: a dry run changes nothing.
    if (sqs && location.kind === 'sqs')
      for (const r of entries)
        if (r.receipt)
          await sqs
            .send(
              new ChangeMessageVisibilityCommand({
                QueueUrl: location.queueUrl,
                ReceiptHandle: r.receipt,
                VisibilityTimeout: 0,
              }),
            )
            .catch(() => {});
    sqs?.destroy();
    s3?.destroy();
    process.stderr.write(
      `logferry replay: ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} would be replayed from ${locationText} (${
        Object.entries(byKind)
          .map(([k, n]) => `${n} ${k}`)
          .join(', ') || 'none'
      }); nothing was changed\n`,
    );
    return;
  }

  const log = stderrLogger();
  const ctx = { cwd, log, ...secretContext(sharedSecretResolver()) };
  const problems: string[] = [];
  let transforms: Awaited<ReturnType<typeof buildTransforms>> = [];
  try {
    transforms = await buildTransforms(cfg, ctx);
  } catch (e) {
    problems.push(`transforms: ${describeError(e)}`);
  }
  const graphTransforms = await buildGraphTransforms(cfg, ctx, problems);
  if (problems.length > 0) {
    sqs?.destroy();
    throw new LogferryError('CONFIG_INVALID', `cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  const built = await buildSinks(cfg, ctx);
  if (built.sinks.length === 0)
    throw new LogferryError('CONFIG_INVALID', 'sinks: at least one sink is needed');

  // One replay source per graph source the entries enter as (routes by `inputs` keep working).
  const groups = new Map<string, ReadEntry[]>();
  for (const r of entries) {
    const name = sourceFor(cfg, r, opts.source);
    let g = groups.get(name);
    if (!g) {
      g = [];
      groups.set(name, g);
    }
    g.push(r);
  }
  const queueUrl = location.kind === 'sqs' ? location.queueUrl : undefined;
  const settle =
    sqs && queueUrl
      ? async (receipt: string) => {
          await sqs!.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receipt }));
        }
      : undefined;
  const sources = [...groups].map(([name, list]) => new ReplaySource(name, list, settle));
  const tags = Object.fromEntries(sourceNodes(cfg).map((n) => [n.name, n.tag]));
  let result: Awaited<ReturnType<typeof runDaemon>>;
  try {
    result = await runDaemon({
      sources,
      sourceTags: tags,
      transforms,
      graphTransforms,
      sinks: built.sinkNodes,
      deadLetter: built.deadLetter,
      // The summary's rows: EKS component / lambda / ecs, as `run` shows them.
      componentOf: (rec) => componentLabel(classifyStream(rec.meta.logGroup, rec.meta.logStream)),
      log,
    });
  } finally {
    sqs?.destroy();
    s3?.destroy();
  }
  const summary = buildSummary(result, {
    targets: built.sinks.map((s) => (s as { describe?: () => string }).describe?.() ?? s.name),
    deadLetter: cfg.deadLetter ? describeDeadLetter(cfg.deadLetter, cwd) : undefined,
    interrupted: false,
  });
  const settled = sources.reduce((n, s) => n + s.outcomes.size, 0);
  const kept = location.kind === 'sqs' ? undefined : locationText;
  const replay = {
    location: locationText,
    entries: entries.length,
    settled,
    unreadable: entries.filter((r) => !r.entry).length,
    ...(kept
      ? { note: `the replayed entries are still in ${kept}; remove them once you are satisfied` }
      : {}),
  };
  if (opts.json) process.stderr.write(`${JSON.stringify({ ...summary, replay })}\n`);
  else {
    process.stderr.write(formatSummary(summary).replace('logferry run:', 'logferry replay:'));
    process.stderr.write(
      `  replayed ${entries.length} dead-letter entr${entries.length === 1 ? 'y' : 'ies'} from ${locationText}${replay.unreadable ? ` (${replay.unreadable} unreadable, dead-lettered again)` : ''}\n${replay.note ? `  ${replay.note}\n` : ''}`,
    );
  }
  if (result.tally.total.failed > 0 || settled < entries.length) process.exitCode = 1;
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('Re-run dead-lettered entries through a config (same accounting as run).')
    .argument('<location>', 'dead-letter file or directory, SQS queue URL, or s3://bucket/prefix')
    .requiredOption('-c, --config <file>', 'YAML or JSON config whose pipeline and sinks to replay through')
    .option('--dry-run', 'list what would be replayed (NDJSON on stdout) and change nothing')
    .option('--json', 'print the summary as one JSON line (on stderr)')
    .option('--source <name>', 'graph source the entries enter as (default: by their source type)')
    .option(
      '--visibility-timeout <seconds>',
      'SQS: seconds a message stays hidden while it is replayed',
      '300',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ logferry replay ./logferry-data/dead-letter --config logferry.yaml --dry-run
  $ logferry replay ./logferry-data/dead-letter --config logferry.yaml
  $ logferry replay https://sqs.eu-west-1.amazonaws.com/123456789012/logferry-dlq -c logferry.yaml --json

Entries that fail again go to the config's dead-letter store with the new reason; SQS messages are
deleted once their entry settled. See docs/replay.md.`,
    )
    .action(async (location: string, opts: ReplayOptions) => {
      await replay(location, opts);
    });
}
