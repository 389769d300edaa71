/**
 * Fluent Bit value syntax → logferry values: booleans (`On/Off/true/false/yes/no`), sizes (`5M`,
 * `32k`), durations (`10s`, `5m`, plain seconds), record accessors (`$kubernetes['labels']['app']`),
 * Onigmo regular expressions (Fluent Bit's engine) as JavaScript ones, tag patterns as regular
 * expressions, and Logs Insights condition pieces with correct quoting.
 */

export function parseBool(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  const s = v.trim().toLowerCase();
  if (['on', 'true', 'yes', '1'].includes(s)) return true;
  if (['off', 'false', 'no', '0'].includes(s)) return false;
  return undefined;
}

/** `5M`, `32k`, `1.5MB`, `100` → bytes (Fluent Bit's flb_utils_size_to_bytes: K/M/G are powers of 1024). */
export function parseSize(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)b?\s*$/i.exec(v);
  if (!m) return undefined;
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * mult);
}

/** `10s`, `5m`, `1h`, `1d`, `250ms`, or a plain number of `unit`s (seconds by default) → milliseconds. */
export function parseDurationMs(v: string | undefined, unitMs = 1000): number | undefined {
  if (v === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(v);
  if (!m) return undefined;
  const unit = m[2]?.toLowerCase();
  const mult = unit
    ? { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit as 'ms' | 's' | 'm' | 'h' | 'd']
    : unitMs;
  return Math.round(Number(m[1]) * mult);
}

/** Comma-separated list (Fluent Bit's Path, Exclude_Path, multiline.parser, labels). */
export function splitList(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Splits `KEY rest of value` (modify, grep, record_modifier); quotes around parts are removed. */
export function splitKeyValue(v: string): [string, string] | undefined {
  const tokens = tokenize(v, 2);
  if (tokens.length < 2) return undefined;
  return [tokens[0], tokens[1]];
}

/** Whitespace tokens, `"quoted strings"` kept whole; the last token takes the rest when `max` is reached. */
export function tokenize(v: string, max = Number.POSITIVE_INFINITY): string[] {
  const out: string[] = [];
  let i = 0;
  const s = v.trim();
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i])) i++;
    if (i >= s.length) break;
    if (out.length === max - 1) {
      out.push(unquote(s.slice(i).trim()));
      break;
    }
    if (s[i] === '"' || s[i] === "'") {
      const q = s[i];
      let j = i + 1;
      let buf = '';
      while (j < s.length && s[j] !== q) {
        if (s[j] === '\\' && j + 1 < s.length && s[j + 1] === q) {
          buf += q;
          j += 2;
          continue;
        }
        buf += s[j++];
      }
      out.push(buf);
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < s.length && !/\s/.test(s[j])) j++;
    out.push(s.slice(i, j));
    i = j;
  }
  return out;
}

function unquote(s: string): string {
  return s.length >= 2 && (s[0] === '"' || s[0] === "'") && s[s.length - 1] === s[0] ? s.slice(1, -1) : s;
}

/**
 * A record accessor or plain key → a dotted logferry field path: `$kubernetes['labels']['app']` →
 * `kubernetes.labels.app`, `$log` → `log`, `log` → `log`. Returns the path segments.
 */
export function accessorSegments(key: string): string[] {
  let k = key.trim();
  if (k.startsWith('$')) k = k.slice(1);
  const segs: string[] = [];
  const m = /^([^[]+)/.exec(k);
  if (m) segs.push(m[1]);
  for (const b of k.matchAll(/\[\s*(?:'([^']*)'|"([^"]*)"|(\d+))\s*\]/g)) segs.push(b[1] ?? b[2] ?? b[3]);
  return segs;
}

/**
 * A Fluent Bit index name (`Index`, `Logstash_Prefix`) as a logferry index template: record accessors
 * (`$idx`, `$kubernetes['namespace_name']`) become `{fields.…}` placeholders; literal text outside
 * what an index name may hold (`a-z 0-9 . _ -`) is lower-cased, the rest replaced by `-`.
 * `changed` says whether literal text had to change (OpenSearch would refuse the name as written).
 */
export function indexTemplate(value: string): { template: string; changed: boolean } {
  let changed = false;
  const template = value.replace(
    /\$([A-Za-z_][\w-]*(?:\[\s*(?:'[^']*'|"[^"]*"|\d+)\s*\])*)|([^$]+|\$)/g,
    (_m, acc: string | undefined, lit: string | undefined) => {
      if (acc !== undefined) return `{fields.${accessorSegments(acc).join('.')}}`;
      const clean = (lit ?? '').toLowerCase().replace(/[^a-z0-9._-]+/g, '-');
      if (clean !== lit) changed = true;
      return clean;
    },
  );
  return { template, changed };
}

/** A field reference in a Logs Insights expression (backticks where a segment is not a plain name). */
export function fieldExpr(segments: string[]): string {
  if (segments.length === 1 && segments[0].startsWith('@')) return segments[0];
  return segments
    .map((s) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? s : `\`${s.replace(/`/g, '``')}\``))
    .join('.');
}

/** A string literal in a Logs Insights expression. */
export function stringLit(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * An Onigmo regular expression (Fluent Bit's engine) as a JavaScript one. Onigmo-only escapes are
 * rewritten (`\A` `\z` `\Z` `\h` `\H`); what cannot be expressed returns an error.
 */
export function onigmoToJs(re: string): { source: string; error?: string } {
  let out = '';
  for (let i = 0; i < re.length; i++) {
    const c = re[i];
    if (c === '\\' && i + 1 < re.length) {
      const n = re[i + 1];
      i++;
      if (n === 'A') out += '^';
      else if (n === 'z' || n === 'Z') out += '$';
      else if (n === 'h') out += '[0-9a-fA-F]';
      else if (n === 'H') out += '[^0-9a-fA-F]';
      else out += `\\${n}`;
      continue;
    }
    if (c === '(' && re.startsWith('(?>', i)) {
      out += '(?:';
      i += 2;
      continue;
    }
    out += c;
  }
  try {
    new RegExp(out);
    return { source: out };
  } catch (e) {
    return { source: out, error: (e as Error).message };
  }
}

/** A regex literal for a Logs Insights condition (`/…/`, inner slashes escaped). */
export function regexLit(source: string): string {
  let out = '';
  let esc = false;
  for (const c of source) {
    if (esc) {
      out += c;
      esc = false;
      continue;
    }
    if (c === '\\') {
      out += c;
      esc = true;
      continue;
    }
    out += c === '/' ? '\\/' : c;
  }
  return `/${out}/`;
}

/** A Fluent Bit `Match` pattern as an anchored regular expression over the tag. */
export function tagPatternToRegex(pattern: string): string {
  return `^${pattern
    .split('*')
    .map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*')}$`;
}

/**
 * Whether two `*`-patterns can match a common string (so a `Match` may select some of the tags a
 * wildcard input tag expands to). Dynamic programming over both patterns.
 */
export function patternsIntersect(a: string, b: string): boolean {
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const k = i * (b.length + 1) + j;
    const hit = memo.get(k);
    if (hit !== undefined) return hit;
    let r: boolean;
    if (i === a.length && j === b.length) r = true;
    else if (i < a.length && a[i] === '*') r = go(i + 1, j) || (j < b.length && go(i, j + 1));
    else if (j < b.length && b[j] === '*') r = go(i, j + 1) || (i < a.length && go(i + 1, j));
    else r = i < a.length && j < b.length && a[i] === b[j] && go(i + 1, j + 1);
    memo.set(k, r);
    return r;
  };
  return go(0, 0);
}

/** strftime in an index name (`%Y.%m.%d`) → logferry's index template tokens (`YYYY.MM.dd`). */
export function strftimeToIndex(fmt: string): string | undefined {
  let ok = true;
  const out = fmt.replace(/%(.)/g, (_, d: string) => {
    const r = { Y: 'YYYY', m: 'MM', d: 'dd', H: 'HH' }[d];
    if (r === undefined) ok = false;
    return r ?? '';
  });
  return ok ? out : undefined;
}
