/**
 * strptime(3)-style time formats, as Fluent Bit's `Time_Format` uses them, compiled once into a
 * regular expression and a field mapping. Supported: `%Y %y %C? %m %d %e %H %k %I %l %M %S %p %b %B %h
 * %a %A %j %z %Z %s %L %f %T %D %F %R %r %n %t %%`; `%L`/`%f` take fractional seconds of any
 * precision (kept to the millisecond); `%z` takes `Z`, `+hh`, `+hhmm`, `+hh:mm`; `%Z` takes `UTC`,
 * `GMT`, `Z` (other zone names are refused at compile time: their offsets are ambiguous). A space in
 * the format matches any run of whitespace (also none), as strptime does. Without `%z` the time is
 * local to the given fixed offset (Fluent Bit's `Time_Offset`), UTC by default.
 */

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTHS_LONG = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
const DAYS = '(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*';

type Slot = 'Y' | 'y' | 'm' | 'd' | 'H' | 'I' | 'M' | 'S' | 'p' | 'b' | 'j' | 'z' | 's' | 'L' | 'skip';

const EXPAND: Record<string, string> = {
  T: '%H:%M:%S',
  D: '%m/%d/%y',
  F: '%Y-%m-%d',
  R: '%H:%M',
  r: '%I:%M:%S %p',
};

const PIECES: Record<string, [string, Slot]> = {
  Y: ['([+-]?\\d{4})', 'Y'],
  y: ['(\\d{2})', 'y'],
  m: ['(\\d{1,2})', 'm'],
  d: ['(\\d{1,2})', 'd'],
  e: ['\\s?(\\d{1,2})', 'd'],
  H: ['(\\d{1,2})', 'H'],
  k: ['\\s?(\\d{1,2})', 'H'],
  I: ['(\\d{1,2})', 'I'],
  l: ['\\s?(\\d{1,2})', 'I'],
  M: ['(\\d{1,2})', 'M'],
  S: ['(\\d{1,2})', 'S'],
  p: ['([AaPp][Mm])', 'p'],
  b: [`(${MONTHS_LONG.map((m) => `${m.slice(0, 3)}(?:${m.slice(3)})?`).join('|')})`, 'b'],
  j: ['(\\d{1,3})', 'j'],
  z: ['(Z|[+-]\\d{2}(?::?\\d{2})?)', 'z'],
  Z: ['(UTC|GMT|Z)', 'skip'],
  s: ['(-?\\d+)', 's'],
  L: ['(\\d+)', 'L'],
  f: ['(\\d+)', 'L'],
  a: [`(${DAYS})`, 'skip'],
  n: ['(\\s*)', 'skip'],
  t: ['(\\s*)', 'skip'],
};
PIECES.B = PIECES.b;
PIECES.h = PIECES.b;
PIECES.A = PIECES.a;

export type TimeParser = (s: string) => number | undefined;

export interface StrptimeError {
  error: string;
}

/** Parses a fixed offset `+0200`, `-06:00`, `Z`; minutes east of UTC, or undefined. */
export function parseOffset(s: string): number | undefined {
  if (s === 'Z' || s === 'z' || s === 'UTC' || s === 'GMT') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(s);
  if (!m) return undefined;
  const h = Number(m[2]);
  const mi = Number(m[3] ?? 0);
  if (h > 23 || mi > 59) return undefined;
  return (m[1] === '-' ? -1 : 1) * (h * 60 + mi);
}

/** A zone designator after the time (white space around it allowed, then the end or more text). */
const TRAILING_ZONE = /^\s*(Z|[+-]\d{2}(?::?\d{2})?)(?:\s|$)/i;

const escapeRe = (s: string) => s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');

/** Compiles a strptime format; returns a parser of text → epoch ms (undefined when it does not match). */
export function compileStrptime(format: string, offsetMinutes = 0): TimeParser | StrptimeError {
  let f = format;
  for (let guard = 0; guard < 4 && /%[TDFRr]/.test(f); guard++)
    f = f.replace(/%([TDFRr])/g, (_, c) => EXPAND[c]);
  let src = '';
  const slots: Slot[] = [];
  for (let i = 0; i < f.length; i++) {
    const c = f[i];
    if (c === '%') {
      const k = f[i + 1];
      i++;
      if (k === '%') {
        src += '%';
        continue;
      }
      const p = k === undefined ? undefined : PIECES[k];
      if (!p)
        return { error: k === undefined ? 'the format ends with a lone %' : `unsupported directive %${k}` };
      src += p[0];
      slots.push(p[1]);
    } else if (/\s/.test(c)) {
      src += '\\s*';
      while (i + 1 < f.length && /\s/.test(f[i + 1])) i++;
    } else src += escapeRe(c);
  }
  if (!slots.some((s) => s !== 'skip' && s !== 'p' && s !== 'z' && s !== 'L')) {
    return { error: 'the format has no date or time directive' };
  }
  // Text after the format is ignored, as Fluent Bit's strptime does (its standard `docker` parser
  // reads `…T10:00:00.123456789Z` with `%Y-%m-%dT%H:%M:%S.%L`), except that a zone designator there
  // (`Z`, `+02:00`, `-0600`) is the time's offset when the format has no `%z` of its own.
  const hasZone = slots.includes('z');
  const re = new RegExp(`^\\s*${src}([\\s\\S]*)$`, 'i');
  return (text) => {
    const m = re.exec(text);
    if (!m) return undefined;
    const rest = m[slots.length + 1];
    let Y = 1970;
    let mo = 1;
    let d = 1;
    let H = 0;
    let Mi = 0;
    let S = 0;
    let ms = 0;
    let pm: boolean | undefined;
    let twelve = false;
    let doy: number | undefined;
    let off = offsetMinutes;
    if (!hasZone && rest !== '') {
      const zone = TRAILING_ZONE.exec(rest);
      if (zone) off = parseOffset(zone[1]) ?? off;
    }
    let epoch: number | undefined;
    for (let i = 0; i < slots.length; i++) {
      const v = m[i + 1];
      switch (slots[i]) {
        case 'Y':
          Y = Number(v);
          break;
        case 'y': {
          const n = Number(v);
          Y = n < 69 ? 2000 + n : 1900 + n;
          break;
        }
        case 'm':
          mo = Number(v);
          break;
        case 'd':
          d = Number(v);
          break;
        case 'H':
          H = Number(v);
          break;
        case 'I':
          H = Number(v);
          twelve = true;
          break;
        case 'M':
          Mi = Number(v);
          break;
        case 'S':
          S = Number(v);
          break;
        case 'p':
          pm = v.toLowerCase() === 'pm';
          break;
        case 'b':
          mo = MONTHS.indexOf(v.slice(0, 3).toLowerCase()) + 1;
          break;
        case 'j':
          doy = Number(v);
          break;
        case 'z': {
          const o = parseOffset(v);
          if (o === undefined) return undefined;
          off = o;
          break;
        }
        case 's':
          epoch = Number(v) * 1000;
          break;
        case 'L':
          ms = Math.floor(Number(`0.${v}`) * 1000);
          break;
        default:
          break;
      }
    }
    if (epoch !== undefined) return Number.isFinite(epoch) ? epoch + ms : undefined;
    if (twelve) {
      if (H < 1 || H > 12) return undefined;
      H = (H % 12) + (pm ? 12 : 0);
    } else if (pm !== undefined && H <= 12) H = (H % 12) + (pm ? 12 : 0);
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || H > 23 || Mi > 59 || S > 60) return undefined;
    let t: number;
    if (doy !== undefined) {
      if (doy < 1 || doy > 366) return undefined;
      t = Date.UTC(Y, 0, 1, H, Mi, Math.min(S, 59)) + (doy - 1) * 86_400_000;
    } else {
      t = Date.UTC(Y, mo - 1, d, H, Mi, Math.min(S, 59));
      // Refuse dates that roll over (31 June).
      if (new Date(t).getUTCDate() !== d) return undefined;
    }
    if (Y < 100 && Y >= 0) t = new Date(t).setUTCFullYear(Y);
    return t + ms - off * 60_000;
  };
}

/** Parses a time without a format: ISO 8601 / RFC 3339 (zone-less taken at `offsetMinutes`), or epoch seconds / milliseconds. */
export function parseAnyTime(v: unknown, offsetMinutes = 0): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? (Math.abs(v) < 1e11 ? v * 1000 : v) : undefined;
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (/^-?\d+(\.\d+)?$/.test(s)) return parseAnyTime(Number(s), offsetMinutes);
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(
      s,
    );
  if (!m) return undefined;
  const off = m[8] === undefined ? offsetMinutes : parseOffset(m[8].toUpperCase());
  if (off === undefined) return undefined;
  const [Y, mo, d, H, Mi, S] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0));
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || H > 23 || Mi > 59 || S > 60) return undefined;
  const t = Date.UTC(Y, mo - 1, d, H, Mi, Math.min(S, 59));
  if (new Date(t).getUTCDate() !== d) return undefined;
  return t + (m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0) - off * 60_000;
}
