/**
 * Public API of the Logs Insights query engine. `parseQuery` turns text into an AST (throwing
 * `LogferryError('QUERY_SYNTAX')` listing every problem with line/column and a caret snippet);
 * `compileQuery` turns text or an AST into closures that readers run per row (`rowStage`) and over
 * the whole stream (`execute` / `finish`). Readers (archive, S3, OpenSearch) live in `backends/`.
 */
export type * from './ast.js';
export type { CompiledQuery, CompileOptions, ExecuteOptions, QueryResult, QueryStats, Row } from './types.js';
export { DEFAULT_RESULT_LIMIT } from './types.js';
export { compileQuery, LAMBDA_FIELDS } from './compile.js';
export { formatProblem, parseQuery, type QueryProblem } from './parser.js';
export { compileExpr } from './compile-expr.js';
export { fieldGetter, toEpochMs } from './values.js';
