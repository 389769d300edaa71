/**
 * Date formatting and parsing for `formatDate`, `strftime` and `parseDate`, in UTC. Two pattern
 * styles are understood: strftime (`%Y-%m-%dT%H:%M:%S`, recognised by a `%`) and Java
 * DateTimeFormatter letters (`yyyy-MM-dd HH:mm:ss.SSS`, `'T'` quoting literal text), the two styles
 * AWS's own examples use. A pattern is compiled once per query into a list of parts, so formatting
 * a row is a loop over parts, and parsing a row is one linear-time regex match.
 */
import { LogferryError } from '../../core/errors.js';

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** One date field: how to print it from a Date, and how to read it back. */
type Field =
  | 'year'
  | 'year2'
  | 'month'
  | 'month1'
  | 'monthShort'
  | 'monthLong'
  | 'day'
  | 'day1'
  | 'daySpace'
  | 'hour'
  | 'hour1'
  | 'hour12'
  | 'minute'
  | 'second'
  | 'millis'
  | 'micros'
  | 'ampm'
  | 'dowShort'
  | 'dowLong'
  | 'dayOfYear'
  | 'zone'
  | 'zoneColon'
  | 'zoneName'
  | 'epochSeconds'
  | 'epochMillis';

type Part = { lit: string } | Field;

export interface DatePattern {
  parts: Part[];
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

function render(f: Field, d: Date, ms: number, z: ZoneAt): string {
  switch (f) {
    case 'year':
      return pad(d.getUTCFullYear(), 4);
    case 'year2':
      return pad(d.getUTCFullYear() % 100, 2);
    case 'month':
      return pad(d.getUTCMonth() + 1, 2);
    case 'month1':
      return String(d.getUTCMonth() + 1);
    case 'monthShort':
      return MONTHS[d.getUTCMonth()].slice(0, 3);
    case 'monthLong':
      return MONTHS[d.getUTCMonth()];
    case 'day':
      return pad(d.getUTCDate(), 2);
    case 'day1':
      return String(d.getUTCDate());
    case 'daySpace':
      return String(d.getUTCDate()).padStart(2, ' ');
    case 'hour':
      return pad(d.getUTCHours(), 2);
    case 'hour1':
      return String(d.getUTCHours());
    case 'hour12':
      return pad(d.getUTCHours() % 12 || 12, 2);
    case 'minute':
      return pad(d.getUTCMinutes(), 2);
    case 'second':
      return pad(d.getUTCSeconds(), 2);
    case 'millis':
      return pad(d.getUTCMilliseconds(), 3);
    case 'micros':
      return `${pad(d.getUTCMilliseconds(), 3)}000`;
    case 'ampm':
      return d.getUTCHours() < 12 ? 'AM' : 'PM';
    case 'dowShort':
      return DAYS[d.getUTCDay()].slice(0, 3);
    case 'dowLong':
      return DAYS[d.getUTCDay()];
    case 'dayOfYear':
      return pad(Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1, 3);
    case 'zone':
      return offsetText(z.offsetMin, '');
    case 'zoneColon':
      return z.offsetMin === 0 ? 'Z' : offsetText(z.offsetMin, ':');
    case 'zoneName':
      return z.name;
    case 'epochSeconds':
      return String(Math.floor(ms / 1000));
    case 'epochMillis':
      return String(ms);
  }
}

const STRFTIME: Record<string, (Field | string)[]> = {
  Y: ['year'],
  y: ['year2'],
  m: ['month'],
  b: ['monthShort'],
  h: ['monthShort'],
  B: ['monthLong'],
  d: ['day'],
  e: ['daySpace'],
  H: ['hour'],
  I: ['hour12'],
  M: ['minute'],
  S: ['second'],
  L: ['millis'],
  f: ['micros'],
  p: ['ampm'],
  a: ['dowShort'],
  A: ['dowLong'],
  j: ['dayOfYear'],
  z: ['zone'],
  Z: ['zoneName'],
  s: ['epochSeconds'],
  F: ['year', '-', 'month', '-', 'day'],
  T: ['hour', ':', 'minute', ':', 'second'],
  D: ['month', '/', 'day', '/', 'year2'],
  R: ['hour', ':', 'minute'],
  '%': ['%'],
};

/** Java DateTimeFormatter letters, longest run first. */
const JAVA: [string, Field][] = [
  ['yyyy', 'year'],
  ['uuuu', 'year'],
  ['yy', 'year2'],
  ['MMMM', 'monthLong'],
  ['MMM', 'monthShort'],
  ['MM', 'month'],
  ['M', 'month1'],
  ['dd', 'day'],
  ['d', 'day1'],
  ['HH', 'hour'],
  ['H', 'hour1'],
  ['hh', 'hour12'],
  ['mm', 'minute'],
  ['ss', 'second'],
  ['SSSSSS', 'micros'],
  ['SSS', 'millis'],
  ['a', 'ampm'],
  ['EEEE', 'dowLong'],
  ['EEE', 'dowShort'],
  ['DDD', 'dayOfYear'],
  ['XXX', 'zoneColon'],
  ['Z', 'zone'],
  ['z', 'zoneName'],
];

/** Compiles a pattern; throws LogferryError('QUERY_SYNTAX') naming the part it does not know. */
export function compileDatePattern(pattern: string): DatePattern {
  const parts: Part[] = [];
  const lit = (s: string) => {
    const last = parts[parts.length - 1];
    if (last !== undefined && typeof last !== 'string') last.lit += s;
    else parts.push({ lit: s });
  };
  if (pattern.includes('%')) {
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i];
      if (c !== '%') {
        lit(c);
        continue;
      }
      const spec = STRFTIME[pattern[i + 1] ?? ''];
      if (!spec)
        throw new LogferryError('QUERY_SYNTAX', `unknown date format directive '%${pattern[i + 1] ?? ''}'`);
      for (const p of spec)
        if (FIELDS.has(p)) parts.push(p as Field);
        else lit(p);
      i++;
    }
    return { parts };
  }
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i];
    if (c === "'") {
      const end = pattern.indexOf("'", i + 1);
      if (end === i + 1) lit("'");
      else lit(pattern.slice(i + 1, end < 0 ? pattern.length : end));
      i = end < 0 ? pattern.length : end + 1;
      continue;
    }
    if (/[A-Za-z]/.test(c)) {
      const m = JAVA.find(([t]) => pattern.startsWith(t, i));
      if (!m) {
        let j = i;
        while (pattern[j] === c) j++;
        throw new LogferryError(
          'QUERY_SYNTAX',
          `unknown date format letters '${pattern.slice(i, j)}' (quote literal text as 'T')`,
        );
      }
      parts.push(m[1]);
      i += m[0].length;
      continue;
    }
    lit(c);
    i++;
  }
  return { parts };
}

const FIELDS = new Set<string>([
  'year',
  'year2',
  'month',
  'month1',
  'monthShort',
  'monthLong',
  'day',
  'day1',
  'daySpace',
  'hour',
  'hour1',
  'hour12',
  'minute',
  'second',
  'millis',
  'micros',
  'ampm',
  'dowShort',
  'dowLong',
  'dayOfYear',
  'zone',
  'zoneColon',
  'zoneName',
  'epochSeconds',
  'epochMillis',
]);

function isField(p: Part): p is Field {
  return typeof p === 'string';
}

function offsetText(min: number, sep: string): string {
  const a = Math.abs(min);
  return `${min < 0 ? '-' : '+'}${pad(Math.floor(a / 60), 2)}${sep}${pad(a % 60, 2)}`;
}

/** The zone a time is shown in: its name and its UTC offset at that time, in minutes. */
interface ZoneAt {
  name: string;
  offsetMin: number;
}

const UTC_AT: ZoneAt = { name: 'UTC', offsetMin: 0 };

/** A time zone argument (`"UTC"`, `"+05:30"`, `"America/New_York"`), compiled once per query. */
export interface TimeZone {
  name: string;
  /** UTC offset in minutes at the given instant (epoch ms). */
  offsetAt(ms: number): number;
}

const FIXED_ZONE_RE = /^(?:(?:UTC|GMT)\s*)?([+-])(\d{1,2})(?::?(\d{2}))?$/i;

/** Compiles a zone name; throws a sentence for an unknown zone. */
export function compileTimeZone(text: string): TimeZone {
  const t = text.trim();
  if (/^(?:UTC|GMT|Z)$/i.test(t)) return { name: 'UTC', offsetAt: () => 0 };
  const f = FIXED_ZONE_RE.exec(t);
  if (f) {
    const min = (f[1] === '-' ? -1 : 1) * (Number(f[2]) * 60 + Number(f[3] ?? 0));
    if (Math.abs(min) > 18 * 60) throw new Error(`time zone offset '${text}' is beyond ±18:00`);
    return { name: offsetText(min, ':'), offsetAt: () => min };
  }
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: t,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new Error(
      `unknown time zone '${text}' (use an IANA name such as "Europe/Paris", "UTC" or an offset such as "+05:30")`,
    );
  }
  const name = t;
  // Zone offsets change on minute boundaries at the finest; logs arrive mostly in time order, so one
  // remembered minute saves the Intl call for most rows.
  let lastMinute = Number.NaN;
  let lastOffset = 0;
  return {
    name,
    offsetAt(ms) {
      const minute = Math.floor(ms / 60_000);
      if (minute === lastMinute) return lastOffset;
      const v: Record<string, number> = {};
      for (const p of fmt.formatToParts(minute * 60_000))
        if (p.type !== 'literal') v[p.type] = Number(p.value);
      const wall = Date.UTC(v.year, v.month - 1, v.day, v.hour, v.minute, v.second);
      lastMinute = minute;
      lastOffset = Math.round((wall - minute * 60_000) / 60_000);
      return lastOffset;
    },
  };
}

/** Formats epoch ms with the pattern, in UTC or in the given zone. */
export function formatDate(ms: number, p: DatePattern, zone?: TimeZone): string {
  let z = UTC_AT;
  let d = new Date(ms);
  if (zone) {
    z = { name: zone.name, offsetMin: zone.offsetAt(ms) };
    d = new Date(ms + z.offsetMin * 60_000);
  }
  let out = '';
  for (const part of p.parts) out += isField(part) ? render(part, d, ms, z) : part.lit;
  return out;
}

// ------------------------------------------------------------ parsing

const READ: Record<Field, string> = {
  year: '(\\d{4})',
  year2: '(\\d{2})',
  month: '(\\d{1,2})',
  month1: '(\\d{1,2})',
  monthShort: '([A-Za-z]{3})',
  monthLong: '([A-Za-z]+)',
  day: '(\\d{1,2})',
  day1: '(\\d{1,2})',
  daySpace: ' ?(\\d{1,2})',
  hour: '(\\d{1,2})',
  hour1: '(\\d{1,2})',
  hour12: '(\\d{1,2})',
  minute: '(\\d{2})',
  second: '(\\d{2})',
  millis: '(\\d{1,3})',
  micros: '(\\d{1,9})',
  ampm: '([AaPp][Mm])',
  dowShort: '[A-Za-z]{3}',
  dowLong: '[A-Za-z]+',
  dayOfYear: '(\\d{1,3})',
  zone: '([+-]\\d{2}:?\\d{2}|Z)',
  zoneColon: '([+-]\\d{2}:?\\d{2}|Z)',
  zoneName: '(?:UTC|GMT|Z)',
  epochSeconds: '(\\d+)',
  epochMillis: '(\\d+)',
};

export type DateParser = (s: string) => number | null;

/**
 * A parser for text in the given pattern, whole string, → epoch ms. A zone in the text wins; else the
 * text is wall-clock time in `zone` (UTC by default).
 */
export function compileDateParser(p: DatePattern, zone?: TimeZone): DateParser {
  let src = '^\\s*';
  const fields: Field[] = [];
  for (const part of p.parts) {
    if (isField(part)) {
      src += READ[part];
      if (READ[part].startsWith('(') || READ[part].startsWith(' ?(')) fields.push(part);
    } else src += part.lit.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  const re = new RegExp(`${src}\\s*$`);
  const zoneNamed = p.parts.includes('zoneName');
  return (s) => {
    const m = re.exec(s);
    if (!m) return null;
    let y = 1970;
    let mo = 0;
    let d = 1;
    let h = 0;
    let mi = 0;
    let sec = 0;
    let ms = 0;
    let pm: boolean | undefined;
    let offsetMin = 0;
    let doy: number | undefined;
    let epoch: number | undefined;
    let sawZone = zoneNamed;
    for (let i = 0; i < fields.length; i++) {
      const v = m[i + 1];
      switch (fields[i]) {
        case 'year':
          y = Number(v);
          break;
        case 'year2':
          y = 2000 + Number(v);
          break;
        case 'month':
        case 'month1':
          mo = Number(v) - 1;
          break;
        case 'monthShort':
        case 'monthLong': {
          const k = MONTHS.findIndex((x) => x.slice(0, 3).toLowerCase() === v.slice(0, 3).toLowerCase());
          if (k < 0) return null;
          mo = k;
          break;
        }
        case 'day':
        case 'day1':
        case 'daySpace':
          d = Number(v);
          break;
        case 'hour':
        case 'hour1':
        case 'hour12':
          h = Number(v);
          break;
        case 'minute':
          mi = Number(v);
          break;
        case 'second':
          sec = Number(v);
          break;
        case 'millis':
          ms = Number(v.padEnd(3, '0'));
          break;
        case 'micros':
          ms = Math.floor(Number(v.padEnd(9, '0')) / 1e6);
          break;
        case 'ampm':
          pm = v.toLowerCase() === 'pm';
          break;
        case 'dayOfYear':
          doy = Number(v);
          break;
        case 'zone':
        case 'zoneColon':
          sawZone = true;
          if (v !== 'Z') {
            const z = /([+-])(\d{2}):?(\d{2})/.exec(v)!;
            offsetMin = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3]));
          }
          break;
        case 'epochSeconds':
          epoch = Number(v) * 1000;
          break;
        case 'epochMillis':
          epoch = Number(v);
          break;
        default:
          break;
      }
    }
    if (epoch !== undefined) return epoch;
    if (pm !== undefined) h = (h % 12) + (pm ? 12 : 0);
    if (mo > 11 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return null;
    const base = doy !== undefined ? Date.UTC(y, 0, doy, h, mi, sec, ms) : Date.UTC(y, mo, d, h, mi, sec, ms);
    // A day that does not exist in its month (Feb 30) rolls over in Date.UTC: refuse it instead.
    if (doy === undefined && new Date(base).getUTCDate() !== d) return null;
    if (!sawZone && zone) {
      // Wall time in the zone: the offset at (base − offset) settles it, also next to a DST change.
      return base - zone.offsetAt(base - zone.offsetAt(base) * 60_000) * 60_000;
    }
    return base - offsetMin * 60_000;
  };
}
