/**
 * Container runtime log formats, as the kubelet leaves them under `/var/log/containers`:
 *
 * - CRI (containerd, CRI-O): `<RFC3339Nano time> <stdout|stderr> <P|F> <text>`; a line longer than
 *   the runtime's buffer (16 KiB in containerd) is written as `P` (partial) pieces ending with an
 *   `F` (full) piece; pieces of one stream are joined here.
 * - Docker `json-file`: `{"log":"text\n","stream":"stdout","time":"…"}`; a line longer than 16 KiB
 *   is split into entries whose `log` lacks the trailing `\n`; they are joined here.
 *
 * `ContainerLogDecoder` turns tailed lines into entries (time from the runtime, never the read
 * time; text without its newline; stream) and tracks the start offset of any partial entry still
 * being assembled, so a checkpoint never moves past half of a line. The format is detected from the
 * first non-empty line of each file when configured as `auto`.
 */

export type LogFormat = 'auto' | 'cri' | 'docker' | 'plain';

export interface DecodedEntry {
  text: string;
  /** Epoch ms from the runtime's time field; undefined for plain lines. */
  time: number | undefined;
  stream: string | undefined;
  /** Offset of the entry's first line and just after its last line. */
  offset: number;
  end: number;
  truncated: boolean;
}

export interface DecodeStats {
  /** Lines that did not match the file's format (kept as plain text, counted). */
  malformed: number;
  /** Partial pieces joined into a larger entry. */
  partialsJoined: number;
}

interface Partial {
  pieces: string[];
  time: number | undefined;
  offset: number;
  truncated: boolean;
  bytes: number;
}

const CRI_HEAD = /^\S+ (?:stdout|stderr) [PF](?: |$)/;

export function detectFormat(line: string): Exclude<LogFormat, 'auto'> {
  if (line.startsWith('{') && line.includes('"log"')) return 'docker';
  if (CRI_HEAD.test(line)) return 'cri';
  return 'plain';
}

export class ContainerLogDecoder {
  format: LogFormat;
  readonly stats: DecodeStats = { malformed: 0, partialsJoined: 0 };
  private readonly partials = new Map<string, Partial>();

  /** `maxBytes`: a reassembled entry is cut at this size (and flagged) rather than growing. */
  constructor(
    format: LogFormat,
    private readonly maxBytes = 1024 * 1024,
  ) {
    this.format = format;
  }

  /** Start offset of the earliest entry still being assembled, if any. */
  pendingStart(): number | undefined {
    let min: number | undefined;
    for (const p of this.partials.values()) if (min === undefined || p.offset < min) min = p.offset;
    return min;
  }

  reset(): void {
    this.partials.clear();
  }

  /** Decodes one line; appends finished entries to `out`. */
  push(text: string, offset: number, end: number, truncated: boolean, out: DecodedEntry[]): void {
    if (this.format === 'auto') {
      if (text.length === 0) {
        out.push({ text, time: undefined, stream: undefined, offset, end, truncated });
        return;
      }
      this.format = detectFormat(text);
    }
    if (this.format === 'cri') this.cri(text, offset, end, truncated, out);
    else if (this.format === 'docker') this.docker(text, offset, end, truncated, out);
    else {
      const t = text.endsWith('\r') ? text.slice(0, -1) : text;
      out.push({ text: t, time: undefined, stream: undefined, offset, end, truncated });
    }
  }

  /** Emits every entry still being assembled (end of input: `once`, file closed). */
  flush(out: DecodedEntry[], end: number): void {
    for (const [stream, p] of this.partials)
      out.push({
        text: p.pieces.join(''),
        time: p.time,
        stream,
        offset: p.offset,
        end,
        truncated: p.truncated,
      });
    this.partials.clear();
  }

  private cri(line: string, offset: number, end: number, truncated: boolean, out: DecodedEntry[]): void {
    // Header without a regular expression or per-field copies: the two stream names are constants.
    const s1 = line.indexOf(' ');
    let s2: number;
    let stream: string;
    if (s1 > 0 && line.startsWith('stdout ', s1 + 1)) {
      stream = 'stdout';
      s2 = s1 + 7;
    } else if (s1 > 0 && line.startsWith('stderr ', s1 + 1)) {
      stream = 'stderr';
      s2 = s1 + 7;
    } else {
      s2 = s1 < 0 ? -1 : line.indexOf(' ', s1 + 1);
      stream = s2 < 0 ? '' : line.slice(s1 + 1, s2);
    }
    const tag = s2 < 0 ? 0 : line.charCodeAt(s2 + 1);
    if (
      s1 <= 0 ||
      s2 < 0 ||
      (tag !== 80 && tag !== 70) || // P, F
      (line.length > s2 + 2 && line.charCodeAt(s2 + 2) !== 32)
    ) {
      this.stats.malformed++;
      out.push({ text: line, time: undefined, stream: undefined, offset, end, truncated });
      return;
    }
    const time = this.time(line, s1);
    const text = line.length > s2 + 3 ? line.slice(s2 + 3) : '';
    this.piece(stream, text, time, tag === 80, offset, end, truncated, out);
  }

  /** Seconds part (`YYYY-MM-DDTHH:MM:SS`) of the last time parsed, and its epoch ms. */
  private timePrefix = '';
  private timeBase = 0;

  /**
   * The CRI time `line[0, s1)`: `YYYY-MM-DDTHH:MM:SS[.fraction]Z` takes the epoch seconds of the
   * previous line when the seconds part is the same (lines of one second share it) and adds the
   * milliseconds of the fraction (truncated, as `Date.parse` does); any other form (an offset, a
   * malformed time) goes through `Date.parse`.
   */
  private time(line: string, s1: number): number | undefined {
    if (line.charCodeAt(s1 - 1) !== 90 || (s1 !== 20 && (s1 < 22 || line.charCodeAt(19) !== 46)))
      return parseTime(line.slice(0, s1));
    let ms = 0;
    for (let i = 20; i < s1 - 1; i++) {
      const d = line.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return parseTime(line.slice(0, s1));
      if (i < 23) ms = ms * 10 + d;
    }
    if (s1 > 20) for (let i = s1 - 1; i < 23; i++) ms *= 10;
    if (this.timePrefix.length === 0 || !line.startsWith(this.timePrefix)) {
      const head = line.slice(0, 19);
      const base = Date.parse(`${head}Z`);
      if (Number.isNaN(base)) return parseTime(line.slice(0, s1));
      this.timePrefix = head;
      this.timeBase = base;
    }
    return this.timeBase + ms;
  }

  private docker(line: string, offset: number, end: number, truncated: boolean, out: DecodedEntry[]): void {
    let obj: { log?: unknown; stream?: unknown; time?: unknown };
    try {
      obj = JSON.parse(line);
    } catch {
      this.stats.malformed++;
      out.push({ text: line, time: undefined, stream: undefined, offset, end, truncated });
      return;
    }
    if (obj === null || typeof obj !== 'object' || typeof obj.log !== 'string') {
      this.stats.malformed++;
      out.push({ text: line, time: undefined, stream: undefined, offset, end, truncated });
      return;
    }
    const stream = typeof obj.stream === 'string' ? obj.stream : 'stdout';
    const time = typeof obj.time === 'string' ? parseTime(obj.time) : undefined;
    let text = obj.log;
    const partial = !text.endsWith('\n');
    if (!partial) text = text.endsWith('\r\n') ? text.slice(0, -2) : text.slice(0, -1);
    this.piece(stream, text, time, partial, offset, end, truncated, out);
  }

  private piece(
    stream: string,
    text: string,
    time: number | undefined,
    partial: boolean,
    offset: number,
    end: number,
    truncated: boolean,
    out: DecodedEntry[],
  ): void {
    const p = this.partials.get(stream);
    if (!p) {
      if (!partial) {
        out.push({ text, time, stream, offset, end, truncated });
        return;
      }
      this.partials.set(stream, { pieces: [text], time, offset, truncated, bytes: text.length });
      return;
    }
    this.stats.partialsJoined++;
    if (p.bytes + text.length > this.maxBytes) {
      const room = Math.max(0, this.maxBytes - p.bytes);
      if (room > 0) p.pieces.push(text.slice(0, room));
      p.bytes += room;
      p.truncated = true;
    } else {
      p.pieces.push(text);
      p.bytes += text.length;
    }
    p.truncated ||= truncated;
    if (partial) return;
    this.partials.delete(stream);
    out.push({
      text: p.pieces.join(''),
      time: p.time,
      stream,
      offset: p.offset,
      end,
      truncated: p.truncated,
    });
  }
}

/** RFC 3339 (any fraction digits, Z or ±hh:mm) → epoch ms; undefined when unparseable. */
export function parseTime(s: string): number | undefined {
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? undefined : ms;
}

export interface KubernetesMeta {
  pod_name: string;
  namespace_name: string;
  container_name: string;
  docker_id: string;
}

/**
 * `/var/log/containers/<pod>_<namespace>_<container>-<64 hex id>.log` → names, as Fluent Bit's
 * kubernetes filter reads them. Pod names are DNS subdomains (no `_`), namespaces and container
 * names DNS labels; the id is the runtime's container id. Returns undefined for other names.
 */
const K8S_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)_([^_]+)_(.+)-([a-z0-9]{64})\.log$/;

export function parseKubernetesFileName(path: string): KubernetesMeta | undefined {
  const slash = path.lastIndexOf('/');
  const name = slash < 0 ? path : path.slice(slash + 1);
  const m = K8S_NAME.exec(name);
  if (!m) return undefined;
  return { pod_name: m[1], namespace_name: m[5], container_name: m[6], docker_id: m[7] };
}
