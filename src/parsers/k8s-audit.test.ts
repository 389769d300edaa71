import { describe, expect, it, vi } from 'vitest';
import { isParseFailure } from '../core/pipeline.js';
import type { LogRecord } from '../core/record.js';
import { createK8sAuditParser } from './k8s-audit.js';

const rec = { timestamp: 0, message: '', fields: {}, meta: {} } as unknown as LogRecord;

// An EKS audit event as it appears in a kube-apiserver-audit-* stream (one line).
const EVENT = JSON.stringify({
  kind: 'Event',
  apiVersion: 'audit.k8s.io/v1',
  level: 'Metadata',
  auditID: '2e8d3b0c-5b8e-4d5d-8d5b-0f5e8c2a7c11',
  stage: 'ResponseComplete',
  requestURI: '/api/v1/namespaces/kube-system/configmaps/aws-auth',
  verb: 'patch',
  user: {
    username: 'kubernetes-admin',
    uid: 'aws-iam-authenticator:123456789012:AROAEXAMPLEROLEID',
    groups: ['system:masters', 'system:authenticated'],
    extra: {
      accessKeyId: ['ASIAEXAMPLE'],
      arn: ['arn:aws:sts::123456789012:assumed-role/Admin/alice'],
      canonicalArn: ['arn:aws:iam::123456789012:role/Admin'],
      sessionName: ['alice'],
    },
  },
  sourceIPs: ['203.0.113.10'],
  userAgent: 'kubectl/v1.29.0 (linux/amd64) kubernetes/3f7a50f',
  objectRef: { resource: 'configmaps', namespace: 'kube-system', name: 'aws-auth', apiVersion: 'v1' },
  responseStatus: { metadata: {}, code: 200 },
  requestReceivedTimestamp: '2023-06-13T10:42:07.123456Z',
  stageTimestamp: '2023-06-13T10:42:07.140012Z',
  annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': '' },
});

/** The value at a Logs Insights-style dotted path (`objectRef.resource`, `user.extra.sessionName.0`). */
const at = (o: unknown, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>(
      (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
      o,
    );

describe('k8s-audit parser', () => {
  const p = createK8sAuditParser();

  it('keeps the event structure as Logs Insights addresses it', () => {
    const f = p.parse(EVENT, rec) as Record<string, unknown>;
    expect(f.verb).toBe('patch');
    expect(at(f, 'objectRef.resource')).toBe('configmaps');
    expect(at(f, 'objectRef.name')).toBe('aws-auth');
    expect(at(f, 'user.username')).toBe('kubernetes-admin');
    expect(at(f, 'user.extra.sessionName.0')).toBe('alice');
    expect(at(f, 'responseStatus.code')).toBe(200);
    expect(f.requestURI).toBe('/api/v1/namespaces/kube-system/configmaps/aws-auth');
    expect(f.userAgent).toMatch(/^kubectl/);
    expect(f.sourceIPs).toEqual(['203.0.113.10']);
    expect(f.stage).toBe('ResponseComplete');
    expect(f.requestReceivedTimestamp).toBe('2023-06-13T10:42:07.123456Z');
    expect(f.k8sAuditMismatch).toBeUndefined();
  });

  it('parses the JSON exactly once', () => {
    const spy = vi.spyOn(JSON, 'parse');
    p.parse(EVENT, rec);
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
  });

  it('marks JSON that is not an audit event, fails on non-JSON without throwing', () => {
    expect(p.parse('{"kind":"Pod","apiVersion":"v1"}', rec)).toEqual({
      kind: 'Pod',
      apiVersion: 'v1',
      k8sAuditMismatch: true,
    });
    expect(isParseFailure(p.parse('I0613 10:42:07.123456 1 x.go:1] hi', rec))).toBe(true);
    expect(isParseFailure(p.parse('{"kind":"Event",', rec))).toBe(true);
  });
});
