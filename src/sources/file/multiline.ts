/**
 * Multiline joining: continuation lines are appended (with `\n`) to the record before them.
 *
 * - `firstLine`: a regular expression; a line matching it starts a record, any other line continues
 *   the current one (the classic "start pattern" of Fluent Bit and Logstash's multiline codec).
 * - Built-in stack-trace joiners (`java`, `python`, `go`, `node`) recognise the continuation lines
 *   of each runtime's traces (frames, `Caused by:`, Python's traceback body and final exception
 *   line, Go's goroutine dumps, Node's `at` frames and error properties) and join them to the log
 *   line before them; everything else starts a record. They combine with each other and with
 *   `firstLine` (a line any joiner calls a continuation continues the record).
 *
 * A record is emitted when the next record starts, when it reaches `maxLines` or `maxBytes`, or
 * when the input has been quiet for the flush timeout (`flushIdle`), so a file's last record is not
 * held forever. The joiner reports the start offset of its pending record so checkpoints stay
 * behind it.
 */
import type { DecodedEntry } from './container-log.js';

export type StackLanguage = 'java' | 'python' | 'go' | 'node';

export interface MultilineOptions {
  firstLine?: RegExp;
  parsers?: StackLanguage[];
  maxLines?: number;
  maxBytes?: number;
}

interface Current {
  lines: string[];
  bytes: number;
  time: number | undefined;
  stream: string | undefined;
  offset: number;
  end: number;
  truncated: boolean;
  lastPush: number;
}

type PyState = 'none' | 'tb' | 'after' | 'gap' | 'chain';
type GoState = 'none' | 'go';
type NodeState = 'none' | 'pre' | 'stack' | 'gap';

const JAVA_CONT =
  /^\s+at\s|^\s*\.\.\. \d+ (?:more|common frames omitted)|^\s*Caused by: |^\s*Suppressed: |^\s*\[CIRCULAR REFERENCE/;
const JAVA_EXC = /^(?:[a-zA-Z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable)\b(?::|$)/;
const PY_TB = /^Traceback \(most recent call last\):\s*$/;
const PY_CHAIN =
  /^(?:During handling of the above exception, another exception occurred:|The above exception was the direct cause of the following exception:)\s*$/;
const GO_START = /^(?:panic: |fatal error: )/;
const GO_ROUTINE = /^goroutine \d+ \[[^\]]*\]:\s*$/;
const GO_FRAME = /^(?:created by |\[signal |exit status \d+$|[\w./*()\-[\]{}%$]+\(.*\)$)/;
const NODE_AT = /^\s+at\s/;
const NODE_PRE = /^(?:file:\/\/)?\/\S+:\d+$/;
const NODE_ERR = /^[A-Z]?\w*(?:Error|Exception)\b|^\w+: /;
const NODE_VERSION = /^Node\.js v\d/;

export class MultilineJoiner {
  private cur: Current | undefined;
  private py: PyState = 'none';
  private go: GoState = 'none';
  private node: NodeState = 'none';
  private readonly java: boolean;
  private readonly python: boolean;
  private readonly golang: boolean;
  private readonly nodejs: boolean;
  private readonly maxLines: number;
  private readonly maxBytes: number;
  joined = 0;

  constructor(private readonly opts: MultilineOptions) {
    const p = new Set(opts.parsers ?? []);
    this.java = p.has('java');
    this.python = p.has('python');
    this.golang = p.has('go');
    this.nodejs = p.has('node');
    this.maxLines = opts.maxLines ?? 1000;
    this.maxBytes = opts.maxBytes ?? 1024 * 1024;
  }

  pendingStart(): number | undefined {
    return this.cur?.offset;
  }

  reset(): void {
    this.cur = undefined;
    this.py = 'none';
    this.go = 'none';
    this.node = 'none';
  }

  push(e: DecodedEntry, now: number, out: DecodedEntry[]): void {
    const cont = this.isContinuation(e.text);
    const c = this.cur;
    if (c && cont && c.lines.length < this.maxLines && c.bytes + e.text.length + 1 <= this.maxBytes) {
      c.lines.push(e.text);
      c.bytes += e.text.length + 1;
      c.end = e.end;
      c.truncated ||= e.truncated;
      c.lastPush = now;
      this.joined++;
      return;
    }
    if (c) out.push(this.emit(c));
    this.cur = {
      lines: [e.text],
      bytes: e.text.length,
      time: e.time,
      stream: e.stream,
      offset: e.offset,
      end: e.end,
      truncated: e.truncated,
      lastPush: now,
    };
  }

  /** Emits the pending record if nothing was added for `idleMs`. */
  flushIdle(now: number, idleMs: number, out: DecodedEntry[]): void {
    if (this.cur && now - this.cur.lastPush >= idleMs) this.flush(out);
  }

  flush(out: DecodedEntry[]): void {
    if (this.cur) out.push(this.emit(this.cur));
    this.cur = undefined;
    this.py = 'none';
    this.go = 'none';
    this.node = 'none';
  }

  private emit(c: Current): DecodedEntry {
    let n = c.lines.length;
    while (n > 1 && c.lines[n - 1].trim() === '') n--; // blank lines held while waiting for a chained trace
    const text = n === 1 ? c.lines[0] : c.lines.slice(0, n).join('\n');
    return { text, time: c.time, stream: c.stream, offset: c.offset, end: c.end, truncated: c.truncated };
  }

  private isContinuation(line: string): boolean {
    let cont = false;
    if (this.java && (JAVA_CONT.test(line) || JAVA_EXC.test(line))) cont = true;
    if (this.python && this.pythonCont(line)) cont = true;
    if (this.golang && this.goCont(line)) cont = true;
    if (this.nodejs && this.nodeCont(line)) cont = true;
    if (cont) return true;
    const fl = this.opts.firstLine;
    if (fl) return !fl.test(line);
    return false;
  }

  private pythonCont(line: string): boolean {
    const st = this.py;
    if (PY_TB.test(line)) {
      this.py = 'tb';
      return true;
    }
    if (st === 'tb') {
      if (line === '' || /^\s/.test(line)) return true;
      this.py = 'after'; // the final `ValueError: message` line
      return true;
    }
    if (st === 'after') {
      if (line.trim() === '') {
        this.py = 'gap';
        return true;
      }
      this.py = 'none';
      return false;
    }
    if (st === 'gap') {
      if (PY_CHAIN.test(line)) {
        this.py = 'chain';
        return true;
      }
      if (line.trim() === '') return true;
      this.py = 'none';
      return false;
    }
    if (st === 'chain') {
      if (line.trim() === '') return true;
      this.py = 'none';
      return false;
    }
    return false;
  }

  private goCont(line: string): boolean {
    if (GO_START.test(line)) {
      this.go = 'go';
      return false;
    }
    if (GO_ROUTINE.test(line)) {
      this.go = 'go';
      return true;
    }
    if (this.go === 'go') {
      if (line.trim() === '' || /^\s/.test(line) || GO_FRAME.test(line)) return true;
      this.go = 'none';
    }
    return false;
  }

  private nodeCont(line: string): boolean {
    const st = this.node;
    if (NODE_AT.test(line)) {
      this.node = 'stack';
      return true;
    }
    if (NODE_PRE.test(line)) {
      this.node = 'pre';
      return false;
    }
    if (st === 'pre') {
      if (line.trim() === '' || /^\s/.test(line)) return true;
      if (NODE_ERR.test(line)) {
        this.node = 'stack';
        return true;
      }
      this.node = 'none';
      return false;
    }
    if (st === 'stack') {
      if (/^\s/.test(line) || line === '}') return true;
      if (line.trim() === '') {
        this.node = 'gap';
        return true;
      }
      this.node = 'none';
      return false;
    }
    if (st === 'gap') {
      if (NODE_VERSION.test(line)) {
        this.node = 'none';
        return true;
      }
      if (line.trim() === '') return true;
      this.node = 'none';
      return false;
    }
    return false;
  }
}
