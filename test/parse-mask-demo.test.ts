/**
 * Harness: the default parse → mask stages over the demo source, which encodes realistic EKS,
 * Lambda and ECS CloudWatch payloads and decodes them through the production path. Checks that
 * every kind of stream gets its fields, nothing keeps a planted credential, and event times are
 * the CloudWatch ones. Needs no emulator.
 */
import { describe, expect, it } from 'vitest';
import { buildTransforms } from '../src/config/build-pipeline.js';
import { loadConfigText } from '../src/config/load.js';
import { runStages } from '../src/core/stages.js';
import type { LogRecord } from '../src/core/record.js';
import { DemoSource } from '../src/sources/demo.js';

async function demoRecords(): Promise<LogRecord[]> {
  const src = new DemoSource({
    envelopes: 120,
    eventsPerEnvelope: 50,
    seed: 3,
    now: Date.parse('2026-11-22T12:00:00Z'),
  });
  const out: LogRecord[] = [];
  for await (const env of src.envelopes(new AbortController().signal)) out.push(...env.records);
  return out;
}

const label = (r: LogRecord): string => {
  if (r.meta.logGroup.startsWith('/aws/eks/')) return r.meta.logStream.replace(/-[0-9a-f]{32}$/, '');
  if (r.meta.logGroup.startsWith('/aws/lambda/')) return 'lambda';
  return 'other';
};

describe('default parse + mask over the demo source', () => {
  it('parses every kind of stream and leaves no planted credential', async () => {
    const records = await demoRecords();
    expect(records.length).toBeGreaterThan(3000);
    const times = records.map((r) => r.timestamp);
    const { records: out } = await runStages(await buildTransforms(loadConfigText('{}')), records);
    expect(out).toHaveLength(records.length);
    expect(out.map((r) => r.timestamp)).toEqual(times);

    const byKind = new Map<string, LogRecord[]>();
    for (const r of out) byKind.set(label(r), [...(byKind.get(label(r)) ?? []), r]);

    const audit = byKind.get('kube-apiserver-audit') ?? [];
    expect(audit.length).toBeGreaterThan(0);
    for (const r of audit) {
      expect(typeof r.fields.verb).toBe('string');
      expect(typeof (r.fields.objectRef as Record<string, unknown> | undefined)?.resource).toBe('string');
    }
    for (const k of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) {
      const rs = byKind.get(k) ?? [];
      expect(rs.length, k).toBeGreaterThan(0);
      const withLevel = rs.filter((r) =>
        ['info', 'warning', 'error', 'fatal'].includes(r.fields.level as string),
      );
      expect(withLevel.length / rs.length, k).toBeGreaterThan(0.9);
    }
    const auth = byKind.get('authenticator') ?? [];
    expect(auth.length).toBeGreaterThan(0);
    expect(auth.every((r) => typeof r.fields.msg === 'string')).toBe(true);
    expect(auth.some((r) => r.fields.msg === 'access denied')).toBe(true);

    const lambda = byKind.get('lambda') ?? [];
    const reports = lambda.filter((r) => r.fields['@type'] === 'REPORT');
    expect(reports.length).toBeGreaterThan(0);
    for (const r of reports) {
      expect(typeof r.fields['@duration']).toBe('number');
      expect(typeof r.fields['@billedDuration']).toBe('number');
      expect(r.fields['@memorySize'] as number).toBeGreaterThanOrEqual(128_000_000);
      expect(typeof r.fields['@requestId']).toBe('string');
    }
    expect(lambda.some((r) => r.fields['@type'] === 'START')).toBe(true);

    // Planted credentials (Bearer JWTs, AKIA ids) are gone from messages and fields.
    const dump = JSON.stringify(out.map((r) => [r.message, r.fields]));
    expect(dump).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(dump).not.toMatch(/Bearer eyJ/);
  });
});
