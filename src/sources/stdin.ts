/**
 * The `stdin` daemon source: reads standard input to EOF, one record per line.
 *
 * `format: lines` — every line is text; `ndjson` — every line must be a JSON object (its `log` or
 * `message` string is the message, the rest are fields, `@timestamp`/`timestamp`/`time`/`date`/`ts`
 * the event time); a line that is not is dead-lettered with its line number (nothing is silently
 * lost); `auto` (default) — JSON object lines as in `ndjson`, any other line as text. Empty lines
 * are skipped; CRLF is accepted. Lines without a time get the time they were read.
 *
 * Records: `logGroup` and `logStream` from the config (default `stdin` / `stdin`), `id`
 * `<session>:<line number>` where the session is unique per run (stdin cannot be replayed, so ids
 * must not collide with an earlier run's). One envelope per chunk read (up to `batchLines` lines).
 * A line longer than `maxLineBytes` is cut into pieces of that size (counted in `stats.splitLines`)
 * rather than buffered without bound.
 */
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { type LinesContext, lineToRecord, parseObjectLine } from '../aws/cloudwatch-payload.js';
import type { BuildContext, ComponentSpec } from '../core/component.js';
import type { LogRecord } from '../core/record.js';
import type { Source, SourceEnvelope } from '../core/source.js';
import { type StdinSourceConfig, stdinSourceMeta } from './stdin-config.js';

export { stdinSourceConfig, type StdinSourceConfig } from './stdin-config.js';

export interface StdinSourceStats {
  lines: number;
  bytes: number;
  malformed: number;
  splitLines: number;
}

export class StdinSource implements Source {
  readonly type = 'stdin';
  readonly name: string;
  readonly stats: StdinSourceStats = { lines: 0, bytes: 0, malformed: 0, splitLines: 0 };
  private readonly cfg: StdinSourceConfig;
  private readonly input: Readable;
  private readonly session: string;

  constructor(
    cfg: StdinSourceConfig,
    _ctx: BuildContext = {},
    deps: { input?: Readable; session?: string } = {},
  ) {
    this.cfg = cfg;
    this.name = cfg.name ?? 'stdin';
    this.input = deps.input ?? process.stdin;
    this.session = deps.session ?? `${Date.now().toString(36)}-${process.pid}`;
  }

  /** `--once`: standard input ends at EOF by itself. */
  bounded(): string | undefined {
    return undefined;
  }

  async *envelopes(signal: AbortSignal): AsyncIterable<SourceEnvelope> {
    const decoder = new StringDecoder('utf8');
    const max = this.cfg.maxLineBytes;
    let rest = '';
    let lineNo = 0;
    let batch: LogRecord[] = [];
    let batchBytes = 0;
    let envNo = 0;
    const ctx: LinesContext = {
      owner: '',
      logGroup: this.cfg.logGroup,
      logStream: this.cfg.logStream,
      idBase: this.session,
      source: 'stdin',
      ackId: '',
      fallbackTime: Date.now(),
    };
    const out: SourceEnvelope[] = [];
    const take = (line: string) => {
      lineNo++;
      if (line.length === 0) return;
      this.stats.lines++;
      const id = `${this.session}:${lineNo}`;
      const obj = this.cfg.format === 'lines' ? undefined : parseObjectLine(line);
      if (!obj && this.cfg.format === 'ndjson') {
        this.stats.malformed++;
        cut();
        out.push({
          ackId: `${this.session}#${++envNo}`,
          records: [],
          bytes: line.length,
          malformed: {
            code: 'ENVELOPE_NOT_JSON',
            reason: `line ${lineNo} of standard input is not a JSON object (format: ndjson)`,
            payload: line.slice(0, 256 * 1024),
          },
        });
        return;
      }
      batch.push(lineToRecord(line, id, ctx, obj));
      batchBytes += line.length;
      if (batch.length >= this.cfg.batchLines) cut();
    };
    const cut = () => {
      if (batch.length === 0) return;
      const ackId = `${this.session}#${++envNo}`;
      for (const r of batch) r.meta.ackId = ackId;
      out.push({ ackId, records: batch, logGroup: this.cfg.logGroup, bytes: batchBytes });
      batch = [];
      batchBytes = 0;
    };
    for await (const chunk of this.input) {
      if (signal.aborted) break;
      const buf: Buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      this.stats.bytes += buf.length;
      const text = rest + decoder.write(buf);
      ctx.fallbackTime = Date.now();
      let start = 0;
      for (;;) {
        const nl = text.indexOf('\n', start);
        if (nl === -1) break;
        take(
          text.charCodeAt(nl - 1) === 13 && nl > start ? text.slice(start, nl - 1) : text.slice(start, nl),
        );
        start = nl + 1;
      }
      rest = text.slice(start);
      while (rest.length > max) {
        this.stats.splitLines++;
        take(rest.slice(0, max));
        rest = rest.slice(max);
      }
      cut();
      yield* out.splice(0);
    }
    rest += decoder.end();
    if (rest.length > 0 && !signal.aborted) take(rest.endsWith('\r') ? rest.slice(0, -1) : rest);
    cut();
    yield* out.splice(0);
  }

  /** Standard input cannot be re-read: outcomes are counted by the runner, nothing to redrive. */
  async ack(): Promise<void> {}
}

export const stdinSourceSpec: ComponentSpec<StdinSourceConfig, StdinSource> = {
  ...stdinSourceMeta,
  create: (config, ctx) => new StdinSource(config, ctx),
};
