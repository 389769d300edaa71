/**
 * Service limits of the HTTP log services (named constants with their sources), shared by the
 * option checks (http/config.ts) and the sinks that enforce them.
 */
/** Logz.io bulk listener: "Max body size is 10 MB (10,485,760 bytes)" — https://docs.logz.io/docs/shipping/Code/HTTP */
export const LOGZIO_MAX_REQUEST_BYTES = 10_485_760;
/** Logz.io bulk listener: "Each log line must be 500,000 bytes or less" — https://docs.logz.io/docs/shipping/Code/HTTP */
export const LOGZIO_MAX_LINE_BYTES = 500_000;
/**
 * Loki `limits_config.max_line_size` default (256KB) — https://grafana.com/docs/loki/latest/configure/#limits_config
 * A longer line is refused by the distributor; we reject it before sending.
 */
export const LOKI_DEFAULT_MAX_LINE_BYTES = 256 * 1024;
/**
 * Request budget for Loki pushes. The push body is bounded by the server's gRPC/HTTP receive size
 * (`server.grpc_server_max_recv_msg_size`, 4 MB by default, the distributor forwards the push as one
 * message) — https://grafana.com/docs/loki/latest/configure/#server
 */
export const LOKI_DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024;
/**
 * Splunk HEC: the request limit is the server's `[http_input] max_content_length` (limits.conf) and
 * differs between Splunk Enterprise and Splunk Cloud — https://docs.splunk.com/Documentation/Splunk/latest/Admin/Limitsconf
 * 1 MiB is a conservative default that every deployment accepts; raise `maxBytes` to match yours.
 */
export const SPLUNK_DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024;
/** Generic endpoints: a conservative request size; raise `maxBytes` for your server. */
export const NDJSON_DEFAULT_MAX_REQUEST_BYTES = 5 * 1024 * 1024;

/** Longest a request may take before it counts as failed (retried by the core). */
export const DEFAULT_TIMEOUT_MS = 30_000;
