/**
 * The result table for a terminal: columns sized to their content and squeezed to fit the width
 * (widest columns give up space first; a cut cell ends with `…`), `@message` takes the remaining
 * width and wraps onto up to `messageLines` lines, control characters never reach the terminal.
 */
import { formatValue } from './format.js';
import type { Row } from '../types.js';

export interface TableOptions {
  width: number;
  times: Set<string>;
  /** Lines a wrapped `@message` cell may take (default 3). */
  messageLines?: number;
  /** The column that takes the remaining width and wraps (default `@message`). */
  wrap?: string;
  /** Header and separators in bold/dim (TTY). */
  color?: boolean;
}

const MIN_COL = 6;
const MAX_COL = 60;
const GAP = '  ';

function clean(s: string): string {
  // Tabs/newlines → spaces; other control characters → '·' (never send escapes to a terminal).
  return s.replace(/[\t\n\r]+/g, ' ').replace(/[\x00-\x1f\x7f-\x9f]/g, '·');
}

const PLAIN = /^[\x20-\x7e]*$/;
// Combining marks (variation selectors included) and zero-width spaces/joiners/marks.
const ZERO_WIDTH = /^(?:\p{Mn}|\p{Me}|\p{Cf})$/u;
const PICTOGRAPH = /\p{Extended_Pictographic}/u;

/** Terminal columns one code point takes: 0 (combining, zero-width), 2 (East Asian wide/fullwidth, emoji) or 1. */
function charWidth(ch: string): number {
  const c = ch.codePointAt(0)!;
  if (c < 0x300) return 1;
  if (ZERO_WIDTH.test(ch)) return 0;
  if (
    (c >= 0x1100 && c <= 0x115f) ||
    (c >= 0x2e80 && c <= 0xa4cf && c !== 0x303f) ||
    (c >= 0xac00 && c <= 0xd7a3) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xfe30 && c <= 0xfe4f) ||
    (c >= 0xff00 && c <= 0xff60) ||
    (c >= 0xffe0 && c <= 0xffe6) ||
    (c >= 0x1f000 && PICTOGRAPH.test(ch)) ||
    (c >= 0x20000 && c <= 0x3fffd)
  )
    return 2;
  return 1;
}

/** Terminal columns a string takes (Korean, Japanese, Chinese and emoji take two each). */
export function displayWidth(s: string): number {
  if (PLAIN.test(s)) return s.length;
  let w = 0;
  for (const ch of s) w += charWidth(ch);
  return w;
}

/** The longest prefix of `s` that fits in `w` columns (as a string index). */
function fitIndex(s: string, w: number): number {
  let used = 0;
  let i = 0;
  for (const ch of s) {
    const cw = charWidth(ch);
    if (used + cw > w) break;
    used += cw;
    i += ch.length;
  }
  return i;
}

function padEnd(s: string, w: number): string {
  const d = displayWidth(s);
  return d >= w ? s : s + ' '.repeat(w - d);
}

export function truncate(s: string, w: number): string {
  if (displayWidth(s) <= w) return s;
  if (w <= 1) return s.slice(0, fitIndex(s, w));
  return `${s.slice(0, fitIndex(s, w - 1))}…`;
}

function wrap(s: string, w: number, maxLines: number): string[] {
  const lines: string[] = [];
  let rest = s;
  while (rest.length > 0 && lines.length < maxLines) {
    if (displayWidth(rest) <= w) {
      lines.push(rest);
      rest = '';
      break;
    }
    const fit = Math.max(fitIndex(rest, w), 1);
    let cut = rest.lastIndexOf(' ', fit);
    if (cut < fit * 0.6) cut = fit;
    lines.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^ /, '');
  }
  if (rest.length > 0) lines[lines.length - 1] = truncate(`${lines[lines.length - 1]} ${rest}`, w);
  return lines.length ? lines : [''];
}

export function renderTable(fields: string[], rows: Row[], opts: TableOptions): string {
  if (fields.length === 0) return '';
  const cells = rows.map((r) => fields.map((f) => clean(formatValue(r[f], opts.times.has(f)))));
  const msgIdx = fields.indexOf(opts.wrap ?? '@message');
  const natural = fields.map((f, i) => {
    let w = displayWidth(f);
    for (const row of cells) {
      const cw = displayWidth(row[i]);
      if (cw > w) w = cw;
    }
    return i === msgIdx ? w : Math.min(w, MAX_COL);
  });
  const widths = natural.map((w) => Math.max(w, 1));
  const avail = opts.width - GAP.length * (fields.length - 1);
  let total = widths.reduce((a, b) => a + b, 0);
  if (msgIdx >= 0 && total > avail) {
    // @message gets what the other columns leave, at least a quarter of the line.
    const others = total - widths[msgIdx];
    widths[msgIdx] = Math.max(Math.min(widths[msgIdx], avail - others), Math.floor(avail / 4), MIN_COL);
    total = widths.reduce((a, b) => a + b, 0);
  }
  // Squeeze the widest column first; times and @message give way only when nothing else can.
  const rigid = (i: number) => i === msgIdx || opts.times.has(fields[i]);
  while (total > avail) {
    let widest = -1;
    for (const pass of [false, true]) {
      for (let i = 0; i < widths.length; i++) {
        if (rigid(i) !== pass && !pass) continue;
        if (widths[i] > MIN_COL && (widest < 0 || widths[i] > widths[widest])) widest = i;
      }
      if (widest >= 0) break;
    }
    if (widest < 0) break;
    widths[widest]--;
    total--;
  }
  const bold = (s: string) => (opts.color ? `\x1b[1m${s}\x1b[0m` : s);
  const dim = (s: string) => (opts.color ? `\x1b[2m${s}\x1b[0m` : s);
  const lastIdx = fields.length - 1;
  const pad = (s: string, i: number) => (i === lastIdx ? s : padEnd(s, widths[i]));
  const out: string[] = [];
  out.push(
    bold(
      fields
        .map((f, i) => pad(truncate(f, widths[i]), i))
        .join(GAP)
        .trimEnd(),
    ),
  );
  out.push(dim(widths.map((w) => '─'.repeat(w)).join(GAP)));
  const maxLines = opts.messageLines ?? 3;
  for (const row of cells) {
    const parts = row.map((c, i) => (i === msgIdx ? wrap(c, widths[i], maxLines) : [truncate(c, widths[i])]));
    const h = Math.max(...parts.map((p) => p.length));
    for (let l = 0; l < h; l++)
      out.push(
        parts
          .map((p, i) => pad(p[l] ?? '', i))
          .join(GAP)
          .trimEnd(),
      );
  }
  return `${out.join('\n')}\n`;
}
