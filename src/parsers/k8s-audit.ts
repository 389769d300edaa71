/**
 * `k8s-audit` parser: Kubernetes audit events as EKS writes them to the `kube-apiserver-audit-*`
 * streams (`{"kind":"Event","apiVersion":"audit.k8s.io/v1",...}`, one event per log event) → the
 * event's own structure as fields, so `verb`, `objectRef.resource`, `objectRef.name`,
 * `user.username`, `user.extra.sessionName.0`, `responseStatus.code`, `requestURI`, `userAgent`,
 * `sourceIPs`, `stage`, `requestReceivedTimestamp`, `annotations.*`… are queried as in Logs Insights.
 * The message is parsed exactly once. Pure, never throws. A JSON object that is not an audit event
 * is still returned (plain JSON) with `k8sAuditMismatch` set, so nothing is lost if a stream is
 * misclassified; non-JSON is a failure. The event time stays the CloudWatch event timestamp.
 */
import { isParseFailure, type ParseFailure, type Parser } from '../core/pipeline.js';
import { firstNonSpace, parseJsonObject } from './json.js';

export interface K8sAuditOptions {
  type: 'k8s-audit';
}

const NOT_JSON: ParseFailure = Object.freeze({ error: 'not a JSON audit event' }) as ParseFailure;

export function isAuditEvent(v: Record<string, unknown>): boolean {
  return v.kind === 'Event' && typeof v.apiVersion === 'string' && v.apiVersion.startsWith('audit.k8s.io/');
}

export function parseAuditEvent(text: string): Record<string, unknown> | ParseFailure {
  if (text.charCodeAt(firstNonSpace(text)) !== 123) return NOT_JSON;
  const v = parseJsonObject(text);
  if (isParseFailure(v)) return v;
  if (!isAuditEvent(v)) v.k8sAuditMismatch = true;
  return v;
}

export function createK8sAuditParser(_opts?: Partial<K8sAuditOptions>): Parser {
  return { type: 'k8s-audit', parse: (text) => parseAuditEvent(text) };
}
