import { decodeGzipPayload, toRecords } from '../aws/cloudwatch-payload.js';
import type { ComponentSpec } from '../core/component.js';
import type { Outcome, OutcomeKind } from '../core/outcome.js';
import { sleep } from '../core/retry.js';
import type { Source, SourceEnvelope } from '../core/source.js';
import { DemoGenerator, type DemoPayload } from './log-generator.js';
import { type DemoConfig, demoConfig, demoSourceMeta } from './demo-config.js';

export { type DemoConfig, demoConfig } from './demo-config.js';

export {
  DEMO_MIX,
  type DemoGeneratorOptions,
  DemoGenerator,
  type DemoKind,
  type DemoPayload,
} from './log-generator.js';

export interface DemoStats {
  envelopes: number;
  byOutcome: Record<OutcomeKind, number>;
}

/** The daemon source: a DemoGenerator behind the `Source` contract. */
export class DemoSource implements Source {
  readonly type = 'demo';
  readonly name: string;
  readonly expected?: number;
  readonly stats: DemoStats = {
    envelopes: 0,
    byOutcome: { delivered: 0, dropped: 0, rejected: 0, failed: 0 },
  };
  private readonly cfg: DemoConfig;
  private readonly now?: number;

  constructor(cfg: Partial<DemoConfig> & { now?: number } = {}) {
    const { now, ...rest } = cfg;
    this.cfg = demoConfig.parse({ ...rest, type: 'demo' });
    this.now = now;
    this.name = this.cfg.name ?? 'demo';
    this.expected = this.cfg.follow ? undefined : this.cfg.envelopes;
  }

  /** `--once`: the demo ends after `envelopes` payloads by itself, unless it follows. */
  bounded(): string | undefined {
    return this.cfg.follow ? 'it follows (follow: true) and never ends; set envelopes instead' : undefined;
  }

  async *envelopes(signal: AbortSignal): AsyncIterable<SourceEnvelope> {
    const c = this.cfg;
    const gen = new DemoGenerator({
      seed: c.seed,
      eventsPerEnvelope: c.eventsPerEnvelope,
      now: c.follow ? this.now : (this.now ?? Date.now()),
      windowMinutes: c.windowMinutes,
      totalEnvelopes: c.follow ? 0 : c.envelopes,
      controlEvery: c.controlEvery,
      corruptEvery: c.corruptEvery,
      owner: c.owner,
      cluster: c.cluster,
    });
    const started = Date.now();
    let events = 0;
    for (let i = 0; c.follow || i < c.envelopes; i++) {
      if (signal.aborted) return;
      if (c.rate > 0) {
        // Pace by events: wait until the time at which `events` would have been emitted at `rate`.
        const due = started + (events / c.rate) * 1000;
        const wait = due - Date.now();
        if (wait > 0) await sleep(wait, signal);
        if (signal.aborted) return;
      }
      const p = gen.next();
      events += Math.max(1, p.events);
      yield this.decode(p);
    }
  }

  /** Runs the production decode path on the payload. */
  decode(p: DemoPayload): SourceEnvelope {
    const ackId = `${this.name}:${this.cfg.seed}:${p.seq}`;
    const res = decodeGzipPayload(p.gzip);
    if (!res.ok)
      return {
        ackId,
        records: [],
        malformed: { code: res.code, reason: res.reason, payload: p.gzip.toString('base64') },
        bytes: p.gzip.length,
      };
    if (res.message.messageType === 'CONTROL_MESSAGE')
      return { ackId, records: [], control: true, bytes: p.gzip.length };
    return { ackId, records: toRecords(res.message, 'demo', ackId), bytes: p.gzip.length };
  }

  async ack(_envelope: SourceEnvelope, outcome: Outcome): Promise<void> {
    this.stats.envelopes++;
    this.stats.byOutcome[outcome.kind]++;
  }
}

export const demoSpec: ComponentSpec<DemoConfig, Source> = {
  ...demoSourceMeta,
  create: (cfg) => new DemoSource(cfg),
};
