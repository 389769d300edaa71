/**
 * `lookup` and `cidrlookup` as stream operators over a loaded table (table.ts). On a match the
 * OUTPUT columns are written to the row (OUTPUT overwrites a field the row has; OUTPUTNEW writes only
 * where the row has no value — missing, null or ""); an empty cell writes nothing. A row without a
 * match passes unchanged.
 */
import type { LookupCommand } from '../ast.js';
import type { Sink } from '../stateful-commands.js';
import type { Row } from '../types.js';
import { fieldGetter, isMissing } from '../values.js';
import { cidrIndex, exactIndex, type LookupTable } from './table.js';

export interface LookupPlan {
  /** Output columns as the row will name them. */
  names: string[];
  operator(next: Sink): Sink;
}

function columnIndex(table: LookupTable, name: string): number {
  return table.columns.indexOf(name);
}

/** Checks the command against the table; returns a problem sentence or the plan. */
export function planLookup(c: LookupCommand, table: LookupTable): LookupPlan | string {
  const word = c.cidr ? 'cidrlookup' : 'lookup';
  const missing = (col: string) =>
    `${word}: the table '${table.name}' has no column '${col}' (its columns: ${table.columns.join(', ')})`;
  let keyCols: number[];
  if (c.cidr) {
    const named = c.keys[0].column;
    const col = named
      ? columnIndex(table, named)
      : Math.max(
          0,
          table.columns.findIndex((x) => x.toLowerCase() === 'cidr'),
        );
    if (col < 0) return missing(named);
    keyCols = [col];
  } else {
    keyCols = [];
    for (const k of c.keys) {
      const i = columnIndex(table, k.column);
      if (i < 0) return missing(k.column);
      keyCols.push(i);
    }
  }
  const outputs: { index: number; as: string }[] = [];
  if (c.outputs.length) {
    for (const o of c.outputs) {
      const i = columnIndex(table, o.column);
      if (i < 0) return missing(o.column);
      outputs.push({ index: i, as: o.as });
    }
  } else {
    table.columns.forEach((name, index) => {
      if (!keyCols.includes(index)) outputs.push({ index, as: name });
    });
  }
  const overwrite = c.mode === 'OUTPUT';
  const getters = c.keys.map((k) => fieldGetter(k.field));
  const find: (r: Row) => string[] | undefined = c.cidr
    ? (() => {
        const idx = cidrIndex(table, keyCols[0]);
        const g = getters[0];
        return (r: Row) => idx(g(r));
      })()
    : (() => {
        const idx = exactIndex(table, keyCols);
        return (r: Row) => idx(getters.map((g) => g(r)));
      })();
  return {
    names: outputs.map((o) => o.as),
    operator(next) {
      return {
        push(row) {
          const hit = find(row);
          if (!hit) return next.push(row);
          let out: Row | undefined;
          for (const o of outputs) {
            const v = hit[o.index];
            if (v === undefined || v === '') continue;
            const cur = row[o.as];
            if (!overwrite && !(isMissing(cur) || cur === '')) continue;
            out ??= { ...row };
            out[o.as] = v;
          }
          return next.push(out ?? row);
        },
        end() {
          next.end();
        },
      };
    },
  };
}
