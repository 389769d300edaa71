/**
 * AST nodes of the pattern-analysis commands (`pattern`, `diff`, `logcompare`, `anomaly`) and their
 * parsing, kept beside the clustering so the core parser only dispatches here.
 */
import type { DiffPeriod, Expr, PatternFamilyCommand, Pos, Span } from '../ast.js';

export type {
  AnomalyCommand,
  DiffCommand,
  DiffPeriod,
  PatternCommand,
  PatternFamilyCommand,
} from '../ast.js';

export const PATTERN_FAMILY = new Set(['pattern', 'diff', 'anomaly']);

export function isPatternFamily(c: { kind: string }): c is PatternFamilyCommand {
  return PATTERN_FAMILY.has(c.kind);
}

/** What the core parser lends: token tests and movement, expression parsing, error reporting. */
export interface ParserHooks {
  /** The current token's word (lower-cased) when it is an unquoted identifier. */
  word(): string | undefined;
  advance(): void;
  atCommandEnd(): boolean;
  parseExpr(): Expr;
  fail(message: string): never;
  span(start: Pos): Span;
}

const PERIODS: Record<string, DiffPeriod> = {
  previousperiod: 'previousPeriod',
  previousday: 'previousDay',
  previousweek: 'previousWeek',
  previousmonth: 'previousMonth',
};

/** Parses the rest of a pattern-family command whose keyword (`word`) was just consumed. */
export function parsePatternFamily(word: string, start: Pos, p: ParserHooks): PatternFamilyCommand {
  switch (word) {
    case 'pattern': {
      if (p.atCommandEnd()) p.fail('pattern expects a field or string expression, e.g. pattern @message');
      return { kind: 'pattern', expr: p.parseExpr(), span: p.span(start) };
    }
    case 'diff': {
      let period: DiffPeriod = 'previousPeriod';
      if (!p.atCommandEnd()) {
        const w = p.word();
        if (w === undefined || !Object.hasOwn(PERIODS, w))
          p.fail('diff takes previousPeriod, previousDay, previousWeek or previousMonth (or nothing)');
        period = PERIODS[w];
        p.advance();
      }
      return { kind: 'diff', period, span: p.span(start) };
    }
    case 'logcompare': {
      if (p.word() !== 'timeshift')
        p.fail('logcompare expects timeshift <duration>, e.g. logcompare timeshift 1d');
      p.advance();
      if (p.atCommandEnd()) p.fail('logcompare timeshift expects a duration such as 1h, 1d or 1w');
      const d = p.parseExpr();
      if (d.kind !== 'duration' || d.ms <= 0)
        p.fail('logcompare timeshift expects a positive duration such as 1h, 1d or 1w');
      return { kind: 'diff', period: 'previousPeriod', shift: d, span: p.span(start) };
    }
    case 'anomaly':
      return { kind: 'anomaly', span: p.span(start) };
    default:
      return p.fail(`unknown command '${word}'`);
  }
}
