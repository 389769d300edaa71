/**
 * Public API of the Logs Insights query engine. `parseQuery` turns text into an AST (throwing
 * `LogferryError('QUERY_SYNTAX')` listing every problem with line/column and a caret snippet);
 * `compileQuery` turns text or an AST into closures that readers run per row (`rowStage`) and over
 * the whole stream (`execute` / `finish`). Readers (archive, S3, OpenSearch) live in `sources/`.
 */
export type * from './ast.js';
export type { CompiledQuery, CompileOptions, ExecuteOptions, QueryResult, QueryStats, Row } from './types.js';
export { DEFAULT_RESULT_LIMIT } from './types.js';

import type { QueryAst } from './ast.js';
import type { CompiledQuery, CompileOptions } from './types.js';

/** Parses a Logs Insights query. Throws LogferryError('QUERY_SYNTAX') with details.problems = [{line, column, message}]. */
export declare function parseQuery(text: string): QueryAst;
/** Compiles a query (text or parsed AST) into per-row and streaming closures. */
export declare function compileQuery(text: string | QueryAst, opts?: CompileOptions): CompiledQuery;
