/**
 * Index naming and document ids for the `opensearch` sink: a template over UTC event time and the
 * record's stream facts (EKS component, cluster, Lambda function, …) compiled once, and the stable
 * `_id` that makes a redriven record land on the same document. Pure; exported for the query side,
 * which must find the same indexes.
 */
import * as crypto from 'node:crypto';
import { classifyStream, componentLabel } from '../../aws/classify.js';
import { LogferryError } from '../../core/errors.js';
import { type LogRecord, recordKey } from '../../core/record.js';
import { OPENSEARCH_MAX_INDEX_NAME_BYTES } from './config.js';

// ---------------------------------------------------------------------------------------------
// Pure helpers (exported for tests and for the query side, which must find the same indexes).

/**
 * SHA-256 as base64url. `crypto.hash` (Node ≥ 20.12) is the one-shot form: the same digest without
 * a Hash object per call, ~2.5× faster on keys this short; older Node falls back to `createHash`.
 */
const sha256Base64url: (s: string) => string =
  typeof crypto.hash === 'function'
    ? (s) => crypto.hash('sha256', s, 'base64url')
    : (s) => crypto.createHash('sha256').update(s).digest('base64url');

/**
 * Stable document id: base64url of the first 24 bytes of SHA-256 over (logGroup, logStream, event
 * id). Kept cryptographic on purpose: ids must not change across versions (a redelivered event
 * must land on the document an older version wrote) and must not collide across billions of events.
 */
export function documentId(meta: LogRecord['meta']): string {
  return sha256Base64url(recordKey(meta)).slice(0, 32);
}

/** Makes any value usable inside an index name: lower case, `[a-z0-9._-]` only, no leading/trailing separators. */
export function sanitizeIndexPart(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-_.]+|[-_.]+$/g, '');
}

/** Final checks on a whole index name: no leading `-_+`, not `.`/`..`, at most 255 bytes. */
export function finishIndexName(name: string): string {
  let n = name.replace(/^[-_+.]+/, '');
  if (n === '') n = 'logs';
  if (Buffer.byteLength(n) > OPENSEARCH_MAX_INDEX_NAME_BYTES) n = n.slice(0, OPENSEARCH_MAX_INDEX_NAME_BYTES);
  return n;
}

type Segment = { lit: string } | { date: 'YYYY' | 'MM' | 'dd' | 'HH' } | { var: string };

// Upper-case date tokens always; lower-case `dd`/`yyyy` only when no lower-case letter touches them
// (so `logs-YYYY.MM.dd` works and a literal like `address` stays literal).
const TEMPLATE_TOKEN = /\{([^{}]+)\}|YYYY|MM|DD|HH|(?<![a-z])(?:yyyy|dd)(?![a-z])/g;
const KNOWN_VARS = new Set(['component', 'cluster', 'logGroup', 'logStream', 'owner', 'function', 'source']);

export function compileIndexTemplate(template: string): Segment[] {
  const segs: Segment[] = [];
  let last = 0;
  for (const m of template.matchAll(TEMPLATE_TOKEN)) {
    if (m.index > last) segs.push({ lit: template.slice(last, m.index) });
    if (m[1] !== undefined) {
      const v = m[1].trim();
      if (!KNOWN_VARS.has(v) && !v.startsWith('fields.')) {
        throw new LogferryError(
          'CONFIG_INVALID',
          `index template: unknown {${v}} (known: ${[...KNOWN_VARS].join(', ')}, fields.<path>)`,
        );
      }
      segs.push({ var: v });
    } else {
      const t = m[0];
      segs.push({ date: t === 'yyyy' ? 'YYYY' : t === 'DD' ? 'dd' : (t as 'YYYY' | 'MM' | 'HH') });
    }
    last = m.index + m[0].length;
  }
  if (last < template.length) segs.push({ lit: template.slice(last) });
  for (const s of segs) {
    if ('lit' in s && !/^[a-z0-9._-]*$/.test(s.lit)) {
      throw new LogferryError(
        'CONFIG_INVALID',
        `index template: literal text "${s.lit}" may hold only lower-case letters, digits, '.', '_' and '-'`,
      );
    }
  }
  return segs;
}

interface StreamFacts {
  component: string;
  cluster: string;
  fn: string;
  logGroup: string;
  logStream: string;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

function fieldAt(fields: Record<string, unknown>, path: string): unknown {
  let cur: unknown = fields;
  for (const k of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** Renders index names for records; caches per-stream facts (bounded) so hot loops do no regex work. */
export class IndexNamer {
  private readonly segs: Segment[];
  private readonly usesStream: boolean;
  private readonly usesDate: boolean;
  private readonly streams = new Map<string, StreamFacts>();
  /** The last stream's facts (records come in runs of one stream): no key string per record. */
  private lastGroup?: string;
  private lastStream?: string;
  private lastFacts?: StreamFacts;
  /** Date parts of the last UTC hour seen (every date token is constant within an hour). */
  private hour = Number.NaN;
  private dateParts: Record<'YYYY' | 'MM' | 'dd' | 'HH', string> = { YYYY: '', MM: '', dd: '', HH: '' };
  readonly isStatic: boolean;

  constructor(template: string) {
    this.segs = compileIndexTemplate(template);
    this.usesStream = this.segs.some((s) => 'var' in s && !s.var.startsWith('fields.'));
    this.usesDate = this.segs.some((s) => 'date' in s);
    this.isStatic = this.segs.every((s) => 'lit' in s);
    this.perStreamAndHour = this.segs.every(
      (s) => !('var' in s) || ['component', 'cluster', 'function', 'logGroup', 'logStream'].includes(s.var),
    );
  }
  /** The name depends on nothing but the stream's facts and the hour's date parts. */
  private readonly perStreamAndHour: boolean;
  /** The last name built, and the facts and date parts it was built from (both kept by identity). */
  private lastName?: string;
  private lastNameFacts?: StreamFacts;
  private lastNameDates?: Record<'YYYY' | 'MM' | 'dd' | 'HH', string>;

  private facts(r: LogRecord): StreamFacts {
    if (r.meta.logGroup === this.lastGroup && r.meta.logStream === this.lastStream)
      return this.lastFacts as StreamFacts;
    const key = `${r.meta.logGroup}\u0000${r.meta.logStream}`;
    let f = this.streams.get(key);
    if (!f) {
      const c = classifyStream(r.meta.logGroup, r.meta.logStream);
      f = {
        component: sanitizeIndexPart(componentLabel(c)) || 'unknown',
        cluster: c.kind === 'eks' ? sanitizeIndexPart(c.cluster) || 'unknown' : 'none',
        fn: c.kind === 'lambda' ? sanitizeIndexPart(c.functionName) || 'unknown' : 'none',
        logGroup: sanitizeIndexPart(r.meta.logGroup) || 'unknown',
        logStream: sanitizeIndexPart(r.meta.logStream) || 'unknown',
      };
      if (this.streams.size >= 4096) this.streams.clear();
      this.streams.set(key, f);
    }
    this.lastGroup = r.meta.logGroup;
    this.lastStream = r.meta.logStream;
    this.lastFacts = f;
    return f;
  }

  private dates(ts: number): Record<'YYYY' | 'MM' | 'dd' | 'HH', string> {
    const h = Math.floor(ts / 3_600_000);
    // UTC hours start at multiples of 3 600 000 ms; outside Date's range (±8.64e15) nothing is cached.
    if (h === this.hour && Math.abs(ts) < 8.64e15) return this.dateParts;
    const d = new Date(ts);
    const parts = {
      YYYY: String(d.getUTCFullYear()),
      MM: pad2(d.getUTCMonth() + 1),
      dd: pad2(d.getUTCDate()),
      HH: pad2(d.getUTCHours()),
    };
    if (Math.abs(ts) < 8.64e15) {
      this.hour = h;
      this.dateParts = parts;
    }
    return parts;
  }

  name(r: LogRecord): string {
    const f = this.usesStream ? this.facts(r) : undefined;
    const d = this.usesDate ? this.dates(r.timestamp) : undefined;
    // Runs of records of one stream within one hour share their index name: built once.
    if (
      this.perStreamAndHour &&
      this.lastName !== undefined &&
      f === this.lastNameFacts &&
      d === this.lastNameDates
    )
      return this.lastName;
    const name = this.build(r, f, d);
    if (this.perStreamAndHour) {
      this.lastName = name;
      this.lastNameFacts = f;
      this.lastNameDates = d;
    }
    return name;
  }

  private build(
    r: LogRecord,
    f: StreamFacts | undefined,
    d: Record<'YYYY' | 'MM' | 'dd' | 'HH', string> | undefined,
  ): string {
    let out = '';
    for (const s of this.segs) {
      if ('lit' in s) out += s.lit;
      else if ('date' in s) {
        out += (d as Record<'YYYY' | 'MM' | 'dd' | 'HH', string>)[s.date];
      } else {
        switch (s.var) {
          case 'component':
            out += f?.component;
            break;
          case 'cluster':
            out += f?.cluster;
            break;
          case 'function':
            out += f?.fn;
            break;
          case 'logGroup':
            out += f?.logGroup;
            break;
          case 'logStream':
            out += f?.logStream;
            break;
          case 'owner':
            out += sanitizeIndexPart(r.meta.owner) || 'unknown';
            break;
          case 'source':
            out += sanitizeIndexPart(r.meta.source) || 'unknown';
            break;
          default: {
            const v = fieldAt(r.fields, s.var.slice('fields.'.length));
            const str =
              typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
            out += sanitizeIndexPart(str) || 'unknown';
          }
        }
      }
    }
    // Fast path of finishIndexName: nothing to strip and surely within the byte limit.
    const c = out.charCodeAt(0);
    if (
      out.length * 3 <= OPENSEARCH_MAX_INDEX_NAME_BYTES &&
      c !== 45 &&
      c !== 95 &&
      c !== 43 &&
      c !== 46 &&
      out.length > 0
    )
      return out;
    return finishIndexName(out);
  }
}
