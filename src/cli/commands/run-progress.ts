/**
 * The progress display of `logferry run` on stderr: a one-line bar redrawn in place on a TTY, a
 * plain line every 2 s otherwise (never one per record), and notes on their own line.
 */
import type { DaemonProgress } from '../../core/daemon.js';
import { formatBytes, int } from './run-summary.js';

const SPIN = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const PLAIN_EVERY_MS = 2_000;

/** A one-line progress bar on a TTY (redrawn in place); a plain line every 2 s otherwise. */
export class ProgressDisplay {
  private frame = 0;
  private lastPlain = 0;
  private drawn = false;
  private readonly tty: boolean;
  private readonly quiet: boolean;

  constructor(
    private readonly out: NodeJS.WriteStream,
    quietWhenPlain: boolean,
  ) {
    this.tty = !!out.isTTY;
    this.quiet = !this.tty && quietWhenPlain;
  }

  update(p: DaemonProgress): void {
    if (this.quiet || p.phase === 'done') return;
    const t = p.tally.total;
    const secs = Math.max(p.elapsedMs, 1) / 1000;
    const rate = Math.round(t.received / secs);
    const objects = p.sinks.reduce((n, s) => n + (((s.stats ?? {}) as { objects?: number }).objects ?? 0), 0);
    const written = p.sinks.reduce((n, s) => n + (((s.stats ?? {}) as { bytes?: number }).bytes ?? 0), 0);
    const frac = p.envelopes.expected ? Math.min(1, p.envelopes.read / p.envelopes.expected) : undefined;
    const stats = `${int(t.received)} events  ${formatBytes(p.bytesIn)} in  ${int(rate)} ev/s  ${int(objects)} objects  ${formatBytes(written)}${p.phase === 'flushing' ? '  flushing…' : ''}`;
    if (this.tty) {
      const cols = this.out.columns || 100;
      let line: string;
      if (frac !== undefined) {
        const width = Math.max(10, Math.min(30, cols - stats.length - 16));
        const full = Math.round(frac * width);
        line = ` ${SPIN[this.frame++ % SPIN.length]} [${'█'.repeat(full)}${'░'.repeat(width - full)}] ${String(Math.floor(frac * 100)).padStart(3)}%  ${stats}`;
      } else line = ` ${SPIN[this.frame++ % SPIN.length]} following (Ctrl-C to stop)  ${stats}`;
      this.out.write(`\r\x1b[2K${line.slice(0, cols - 1)}`);
      this.drawn = true;
      return;
    }
    const now = Date.now();
    if (now - this.lastPlain < PLAIN_EVERY_MS) return;
    if (this.lastPlain === 0) {
      this.lastPlain = now; // skip the first tick: short runs print only the summary
      return;
    }
    this.lastPlain = now;
    this.out.write(`logferry: ${frac !== undefined ? `${Math.floor(frac * 100)}%, ` : ''}${stats}\n`);
  }

  /** Prints a message on its own line (keeping the bar intact on a TTY). */
  note(msg: string): void {
    if (this.tty && this.drawn) this.out.write('\r\x1b[2K');
    this.out.write(`logferry: ${msg}\n`);
  }

  end(): void {
    if (this.tty && this.drawn) this.out.write('\r\x1b[2K');
    this.drawn = false;
  }
}
