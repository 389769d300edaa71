/**
 * What the network sources (`http`, `forward`, `syslog`) share: a PushQueue between their listeners
 * and the runner, a `ready` promise with the bound address(es), and one life cycle — listen when the
 * runner starts pulling, stop accepting when it stops (signal aborted), acknowledge through the
 * queue. Each source binds its own sockets in `listen()` and releases them in `stopListening()`;
 * a listen that fails part-way is released too.
 */
import type { BuildContext, Logger } from '../core/component.js';
import type { Outcome } from '../core/outcome.js';
import type { Source, SourceEnvelope } from '../core/source.js';
import { type PushLimits, PushQueue } from './push-queue.js';

export abstract class ListenerSource<Address> implements Source {
  abstract readonly type: string;
  readonly name: string;
  protected readonly ctx: BuildContext;
  protected readonly log: Logger | undefined;
  protected readonly queue: PushQueue;
  private resolveReady!: (a: Address) => void;
  private rejectReady!: (e: unknown) => void;
  /** Resolves with the bound address(es) once listening (tests, `port: 0`). */
  readonly ready: Promise<Address>;

  constructor(name: string, limits: PushLimits, ctx: BuildContext) {
    this.name = name;
    this.ctx = ctx;
    this.log = ctx.log;
    this.queue = new PushQueue(limits);
    this.ready = new Promise((res, rej) => {
      this.resolveReady = res;
      this.rejectReady = rej;
    });
    this.ready.catch(() => {});
  }

  /** Binds the listener(s); resolves with what `ready` gives. */
  protected abstract listen(): Promise<Address>;
  /** No new senders; what is in progress is settled by the queue or `close()`. */
  protected abstract stopListening(): void;

  async *envelopes(signal: AbortSignal): AsyncIterable<SourceEnvelope> {
    try {
      this.resolveReady(await this.listen());
    } catch (e) {
      this.rejectReady(e);
      this.stopListening();
      throw e;
    }
    const stop = () => this.stopListening();
    signal.addEventListener('abort', stop, { once: true });
    try {
      yield* this.queue.envelopes(signal);
    } finally {
      signal.removeEventListener('abort', stop);
      this.stopListening();
    }
  }

  async ack(envelope: SourceEnvelope, outcome: Outcome): Promise<void> {
    this.queue.ack(envelope, outcome);
  }
}
