/**
 * What the editor's highlighting and autocomplete know about the language: the commands the parser
 * accepts and every function of the registry with its arity and kind. Taken from the engine itself,
 * so the console never offers what `logferry query` would refuse.
 */
import { FUNCTION_NAMES, lookupFunction } from '../query/functions/registry.js';
import { COMMANDS } from '../query/parser.js';

export interface LanguageCatalog {
  commands: string[];
  functions: { name: string; kind: 'scalar' | 'aggregate'; min: number; max: number }[];
  keywords: string[];
}

export function languageCatalog(): LanguageCatalog {
  const functions = FUNCTION_NAMES.map((name) => {
    const spec = lookupFunction(name);
    return {
      name,
      kind: spec?.kind ?? 'scalar',
      min: spec?.min ?? 0,
      max: Number.isFinite(spec?.max) ? (spec?.max as number) : -1,
    };
  }).sort((a, b) => a.name.localeCompare(b.name));
  return {
    commands: [...COMMANDS],
    functions,
    keywords: ['by', 'as', 'asc', 'desc', 'and', 'or', 'not', 'in', 'like'],
  };
}
