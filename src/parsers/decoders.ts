/**
 * Field decoders (Fluent Bit's `Decode_Field_As`): turn an escaped string or a JSON document held in
 * a string field into what it stands for. Pure, never throw: bad input returns `undefined`.
 *
 * - `escaped`: C/JSON-style escapes (`\n`, `\t`, `\r`, `\b`, `\f`, `\v`, `\a`, `\0`, `\"`, `\'`,
 *   `\\`, `\/`, `\uXXXX` with surrogate pairs, `\xNN` as a code point); an unknown escape keeps its
 *   character (`\q` → `q`).
 * - `escaped-utf8`: as `escaped`, but runs of `\xNN` are UTF-8 bytes (`\xc3\xa9` → `é`); invalid
 *   byte sequences become U+FFFD.
 * - `json`: the string parsed as JSON when it holds an object or array (`"{\"a\":1}"`), after
 *   optional surrounding whitespace.
 */

const SIMPLE: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  b: '\b',
  f: '\f',
  v: '\v',
  a: '\x07',
  '0': '\0',
  '"': '"',
  "'": "'",
  '\\': '\\',
  '/': '/',
};

const HEX = /^[0-9a-fA-F]+$/;
const utf8 = new TextDecoder('utf-8', { fatal: false });

export function decodeEscaped(s: string, bytesAsUtf8 = false): string {
  if (!s.includes('\\')) return s;
  let out = '';
  let i = 0;
  let bytes: number[] | undefined;
  const flush = () => {
    if (bytes) {
      out += utf8.decode(Uint8Array.from(bytes));
      bytes = undefined;
    }
  };
  while (i < s.length) {
    const c = s[i];
    if (c !== '\\' || i + 1 >= s.length) {
      flush();
      out += c;
      i++;
      continue;
    }
    const e = s[i + 1];
    if (e === 'x') {
      const h = s.slice(i + 2, i + 4);
      if (h.length === 2 && HEX.test(h)) {
        const b = Number.parseInt(h, 16);
        if (bytesAsUtf8) {
          bytes ??= [];
          bytes.push(b);
        } else out += String.fromCharCode(b);
        i += 4;
        continue;
      }
    }
    flush();
    if (e === 'u') {
      const h = s.slice(i + 2, i + 6);
      if (h.length === 4 && HEX.test(h)) {
        out += String.fromCharCode(Number.parseInt(h, 16));
        i += 6;
        continue;
      }
    }
    out += SIMPLE[e] ?? e;
    i += 2;
  }
  flush();
  return out;
}

/** A JSON object or array held in a string, or undefined when it is not one. */
export function decodeJsonString(s: string): unknown {
  let i = 0;
  while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  if (s[i] !== '{' && s[i] !== '[') return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
