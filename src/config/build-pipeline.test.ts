import { describe, expect, it } from 'vitest';
import { runStages } from '../core/stages.js';
import type { LogRecord } from '../core/record.js';
import { buildTransforms } from './build-pipeline.js';
import { loadConfigText } from './load.js';

const rec = (logGroup: string, logStream: string, message: string): LogRecord => ({
  timestamp: 1_686_652_927_000,
  message,
  fields: {},
  meta: { owner: '123456789012', logGroup, logStream, id: '1', source: 'test', ackId: 'a' },
});

// A TokenReview audit event carries the bearer token the authenticator checked.
const AUDIT = JSON.stringify({
  kind: 'Event',
  apiVersion: 'audit.k8s.io/v1',
  verb: 'create',
  objectRef: { resource: 'tokenreviews', apiGroup: 'authentication.k8s.io' },
  user: { username: 'system:kube-controller-manager', extra: { sessionName: ['alice'] } },
  requestObject: { kind: 'TokenReview', spec: { token: 'k8s-aws-v1.aHR0cHM6Ly9zdHMuYW1hem9uYXdzLmNvbQ' } },
  responseStatus: { code: 201 },
});
/** The value at a Logs Insights-style dotted path (`objectRef.resource`, `user.extra.sessionName.0`). */
const at = (o: unknown, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>(
      (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
      o,
    );

const AUDIT_STREAM = 'kube-apiserver-audit-4e9f9d6f9d15381d05d77c5df3f7d329';

async function stagesFor(yaml: string) {
  return buildTransforms(loadConfigText(yaml));
}

describe('buildTransforms wiring', () => {
  it('default config: parse (auto) then mask, so parsed fields are masked', async () => {
    const stages = await stagesFor('{}');
    expect(stages.map((s) => s.type)).toEqual(['parse', 'mask']);
    const [r] = (await runStages(stages, [rec('/aws/eks/prod/cluster', AUDIT_STREAM, AUDIT)])).records;
    const f = r.fields;
    expect(f.verb).toBe('create');
    expect(at(f, 'objectRef.resource')).toBe('tokenreviews');
    expect(at(f, 'requestObject.spec.token')).toBe('****');
    expect(at(f, 'user.extra.sessionName')).toEqual(['alice']);
    expect(r.message).not.toContain('k8s-aws-v1.aHR0');
    expect(r.message).toContain('"token":"****"');
    expect(r.timestamp).toBe(1_686_652_927_000);
  });

  it('Lambda REPORT lines get Logs Insights fields through the default pipeline', async () => {
    const stages = await stagesFor('parse: auto');
    const msg =
      'REPORT RequestId: c6af9ac6-7b61-11e6-9a41-93e8deadbeef\tDuration: 3.1 ms\tBilled Duration: 4 ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB\t';
    const [r] = (await runStages(stages, [rec('/aws/lambda/f', '2024/01/01/[$LATEST]abc', msg)])).records;
    expect(r.fields).toMatchObject({ '@type': 'REPORT', '@duration': 3.1, '@memorySize': 128_000_000 });
  });

  it('parse: none leaves messages unparsed (mask still on)', async () => {
    const stages = await stagesFor('parse: none');
    expect(stages.map((s) => s.type)).toEqual(['mask']);
    const [r] = (await runStages(stages, [rec('/aws/eks/prod/cluster', AUDIT_STREAM, AUDIT)])).records;
    expect(r.fields).toEqual({});
    expect(r.message).toContain('"token":"****"');
  });

  it('mask: false turns masking off', async () => {
    const stages = await stagesFor('mask: false');
    expect(stages.map((s) => s.type)).toEqual(['parse']);
    const [r] = (await runStages(stages, [rec('/aws/eks/prod/cluster', AUDIT_STREAM, AUDIT)])).records;
    expect(at(r.fields, 'requestObject.spec.token')).toMatch(/^k8s-aws-v1\./);
  });

  it('a mask object configures the mask, and configured transforms come after it', async () => {
    const stages = await stagesFor(
      [
        'mask:',
        '  replacement: "[x]"',
        '  keys: { add: [pin] }',
        'transforms:',
        '  - type: mask',
        '    secrets: [late-secret-1]',
      ].join('\n'),
    );
    expect(stages.map((s) => s.type)).toEqual(['parse', 'mask', 'mask']);
    const [r] = (
      await runStages(stages, [
        rec('/ecs/app', 'ecs/app/0123456789abcdef0123456789abcdef', '{"pin":"1234","note":"late-secret-1"}'),
      ])
    ).records;
    expect(r.fields).toEqual({ pin: '[x]', note: '****' });
  });

  it('bad mask options are reported by the loader', async () => {
    expect(() => loadConfigText('mask: { replacment: "x" }')).toThrow(/mask.*unknown key/s);
  });
});
