/**
 * The `demo` source (like Vector's `demo_logs`): realistic CloudWatch Logs subscription payloads,
 * encoded exactly as CloudWatch sends them (gzip JSON `DATA_MESSAGE`s, plus the occasional
 * `CONTROL_MESSAGE`) and decoded back through the real decode path (`decodeGzipPayload` +
 * `toRecords`), so a demo run exercises what production runs. It covers the EKS control plane
 * (`/aws/eks/<cluster>/cluster`: kube-apiserver-audit JSON events — reads, aws-auth patches,
 * evictions, pod/node deletes, forbidden requests —, kube-apiserver / controller-manager / scheduler
 * klog lines, authenticator key=value lines incl. "access denied"), Lambda (`/aws/lambda/<fn>`,
 * START/END/REPORT platform lines and JSON or tab-separated app lines) and ECS (`ecs/<container>/<task>`).
 * Output is deterministic for a seed and a start time; event times spread over a recent window.
 *
 * Delivery semantics: there is no upstream to redrive, so `ack` only counts outcomes. Limits: with
 * `follow` it runs until the signal aborts; `rate` caps events per second (0 = as fast as possible).
 * The payloads come from the one data generator (log-generator.ts), which the benches use too.
 */
import * as z from 'zod';
import { decodeGzipPayload, toRecords } from '../aws/cloudwatch-payload.js';
import type { ComponentSpec } from '../core/component.js';
import type { Outcome, OutcomeKind } from '../core/outcome.js';
import { sleep } from '../core/retry.js';
import type { Source, SourceEnvelope } from '../core/source.js';
import { DemoGenerator, type DemoPayload } from './log-generator.js';

export const demoConfig = z.strictObject({
  type: z.literal('demo'),
  name: z.string().min(1).optional(),
  /** Payloads to emit (ignored with `follow`). 400 × 50 = 20,000 events by default. */
  envelopes: z.number().int().min(0).default(400),
  /** Log events per DATA_MESSAGE. CloudWatch batches vary; a fixed count keeps totals predictable. */
  eventsPerEnvelope: z.number().int().min(1).max(10_000).default(50),
  seed: z.number().int().default(1),
  /** Keep emitting until interrupted. */
  follow: z.boolean().default(false),
  /** Most events per second (0 = unbounded). */
  rate: z.number().min(0).default(0),
  /** Event times spread over this many minutes before the start (bounded runs). */
  windowMinutes: z
    .number()
    .positive()
    .max(7 * 24 * 60)
    .default(60),
  /** One envelope in N is a CONTROL_MESSAGE (0 = never). */
  controlEvery: z.number().int().min(0).default(200),
  /** One envelope in N is corrupted in transit (truncated gzip) to exercise the dead-letter path (0 = never). */
  corruptEvery: z.number().int().min(0).default(0),
  /** AWS account id used as the payload owner. */
  owner: z
    .string()
    .regex(/^\d{12}$/, 'owner must be a 12-digit AWS account id')
    .default('123456789012'),
  /** EKS cluster name used in log group names. */
  cluster: z.string().min(1).default('demo-prod'),
});
export type DemoConfig = z.infer<typeof demoConfig>;

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
  type: 'demo',
  iam: [],
  summary:
    'Realistic CloudWatch subscription payloads (EKS control plane, Lambda, ECS, control messages), seeded.',
  schema: demoConfig,
  create: (cfg) => new DemoSource(cfg),
};
