/**
 * The `opensearch` sink lives in src/sinks/opensearch/ (config.ts: options and limits;
 * index-name.ts: index templates and document ids; bulk.ts: `_bulk` item rules and server
 * detection; client.ts: connection and auth; sink.ts: encoding and settling). This file keeps the
 * one import path the rest of the code base and the benchmarks use.
 */
export * from './opensearch/bulk.js';
export * from './opensearch/client.js';
export * from './opensearch/config.js';
export * from './opensearch/index-name.js';
export * from './opensearch/sink.js';
