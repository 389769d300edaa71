/**
 * Turns a Logs Insights regex literal into a JavaScript RegExp once, at compile time. Logs Insights
 * uses Java-style inline flags (`/(?i)error/`); JavaScript (Node 20) does not, so a leading `(?i)`,
 * `(?s)`, `(?m)` group is lifted into RegExp flags. Named groups `(?<name>…)` are the same in both,
 * except that a parse field may start with `@` (`(?<@transId>…)`, as `parse … as @user` allows):
 * JavaScript group names cannot, so such a group gets a private name and `groups` maps it back.
 */
import { LogferryError } from '../core/errors.js';

const ALLOWED_FLAGS = new Set(['i', 'm', 's', 'u']);

export interface JsRegex {
  re: RegExp;
  /** Named capture groups in order of appearance (the field names, `@` included). */
  names: string[];
  /** The RegExp group name of each of `names` (differs only for `@` names). */
  groups: string[];
}

const AT_GROUP = '$at$';

/** Throws LogferryError('QUERY_SYNTAX') with a plain message (the parser adds the position). */
export function toJsRegex(source: string, flags: string): JsRegex {
  let src = source;
  const fl = new Set<string>();
  for (const f of flags) {
    if (!ALLOWED_FLAGS.has(f))
      throw new LogferryError('QUERY_SYNTAX', `unsupported regex flag '${f}' (use i, m, s or u)`);
    fl.add(f);
  }
  const inline = /^\(\?([a-zA-Z]+)\)/.exec(src);
  if (inline) {
    for (const f of inline[1]) {
      if (!ALLOWED_FLAGS.has(f)) {
        throw new LogferryError('QUERY_SYNTAX', `unsupported inline regex flag '${f}' (use i, m, s or u)`);
      }
      fl.add(f);
    }
    src = src.slice(inline[0].length);
  }
  // `(?<@name>` and `\k<@name>` → a name JavaScript accepts.
  const jsSrc = src.replace(/(\(\?<|\\k<)@(?=[A-Za-z_$])/g, `$1${AT_GROUP.replace(/\$/g, '$$$$')}`);
  let re: RegExp;
  try {
    re = new RegExp(jsSrc, [...fl].join(''));
  } catch (e) {
    throw new LogferryError(
      'QUERY_SYNTAX',
      `invalid regular expression /${source}/: ${(e as Error).message}`,
    );
  }
  const names: string[] = [];
  const groups: string[] = [];
  const groupRe = /\(\?<(@?[A-Za-z_$][\w$]*)>/g;
  for (let m = groupRe.exec(src); m; m = groupRe.exec(src)) {
    // Skip escaped parens: `\(?<x>` is not a group.
    let bs = 0;
    for (let k = m.index - 1; k >= 0 && src[k] === '\\'; k--) bs++;
    if (bs % 2 === 0) {
      names.push(m[1]);
      groups.push(m[1].startsWith('@') ? `${AT_GROUP}${m[1].slice(1)}` : m[1]);
    }
  }
  return { re, names, groups };
}

/** Escapes text for use inside a RegExp. */
export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
