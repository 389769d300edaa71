import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { classifyStream } from '../aws/classify.js';
import { decodeGzipPayload } from '../aws/cloudwatch-payload.js';
import type { SourceEnvelope } from '../core/source.js';
import { DemoGenerator, DemoSource, demoConfig } from './demo.js';

const NOW = Date.UTC(2026, 10, 22, 13, 0, 0);

async function collect(src: DemoSource, signal = new AbortController().signal): Promise<SourceEnvelope[]> {
  const out: SourceEnvelope[] = [];
  for await (const e of src.envelopes(signal)) out.push(e);
  return out;
}

describe('DemoGenerator', () => {
  it('is deterministic for a seed and start time', () => {
    const a = new DemoGenerator({ seed: 42, now: NOW, totalEnvelopes: 50 });
    const b = new DemoGenerator({ seed: 42, now: NOW, totalEnvelopes: 50 });
    const c = new DemoGenerator({ seed: 43, now: NOW, totalEnvelopes: 50 });
    const pa = Array.from({ length: 50 }, () => a.next().gzip.toString('base64'));
    const pb = Array.from({ length: 50 }, () => b.next().gzip.toString('base64'));
    const pc = Array.from({ length: 50 }, () => c.next().gzip.toString('base64'));
    expect(pb).toEqual(pa);
    expect(pc).not.toEqual(pa);
  });

  it('emits gzip JSON exactly as CloudWatch subscriptions do, for every kind of stream', () => {
    const g = new DemoGenerator({
      seed: 3,
      now: NOW,
      totalEnvelopes: 400,
      eventsPerEnvelope: 20,
      controlEvery: 100,
    });
    const kinds = new Set<string>();
    const audit: Record<string, unknown>[] = [];
    const text: string[] = [];
    let controls = 0;
    for (let i = 0; i < 400; i++) {
      const p = g.next();
      expect([p.gzip[0], p.gzip[1]]).toEqual([0x1f, 0x8b]);
      const raw = JSON.parse(gunzipSync(p.gzip).toString('utf8'));
      const res = decodeGzipPayload(p.gzip);
      expect(res.ok).toBe(true);
      if (raw.messageType === 'CONTROL_MESSAGE') {
        controls++;
        expect(raw.logEvents[0].message).toMatch(/^CWL CONTROL MESSAGE/);
        continue;
      }
      expect(raw).toMatchObject({
        messageType: 'DATA_MESSAGE',
        owner: '123456789012',
        subscriptionFilters: ['logferry-demo'],
      });
      expect(raw.logEvents).toHaveLength(20);
      const cls = classifyStream(raw.logGroup, raw.logStream);
      kinds.add(cls.kind === 'eks' ? cls.component : cls.kind);
      for (const ev of raw.logEvents) {
        expect(ev.id).toMatch(/^\d{56}$/);
        expect(ev.timestamp).toBeLessThanOrEqual(NOW + 60_000);
        expect(ev.timestamp).toBeGreaterThan(NOW - 61 * 60_000);
        if (cls.kind === 'eks' && cls.component === 'kube-apiserver-audit')
          audit.push(JSON.parse(ev.message));
        else text.push(ev.message);
      }
    }
    expect(controls).toBe(4);
    expect([...kinds].sort()).toEqual(
      [
        'authenticator',
        'ecs',
        'kube-apiserver',
        'kube-apiserver-audit',
        'kube-controller-manager',
        'kube-scheduler',
        'lambda',
      ].sort(),
    );
    // Audit events carry what people query: verbs, objectRef, user, responseStatus.
    expect(
      audit.every(
        (a) => a.kind === 'Event' && typeof a.verb === 'string' && a.objectRef && a.user && a.responseStatus,
      ),
    ).toBe(true);
    // biome-ignore lint/suspicious/noExplicitAny: ad-hoc probes into parsed audit JSON
    const has = (f: (a: Record<string, any>) => boolean) => audit.some(f);
    expect(has((a) => a.objectRef.name === 'aws-auth' && a.verb === 'patch')).toBe(true);
    expect(has((a) => a.objectRef.subresource === 'eviction')).toBe(true);
    expect(has((a) => a.verb === 'delete' && a.objectRef.resource === 'nodes')).toBe(true);
    expect(has((a) => a.verb === 'delete' && a.objectRef.resource === 'pods')).toBe(true);
    expect(
      has(
        (a) => a.responseStatus.code === 403 && a.annotations['authorization.k8s.io/decision'] === 'forbid',
      ),
    ).toBe(true);
    expect(text.some((m) => /^[IWE]\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ [\w.]+:\d+\] /.test(m))).toBe(true);
    expect(text.some((m) => m.includes('msg="access denied"'))).toBe(true);
    expect(text.some((m) => /^START RequestId: [0-9a-f-]{36} Version: \$LATEST\n$/.test(m))).toBe(true);
    expect(
      text.some((m) => /^REPORT RequestId: .*\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms/.test(m)),
    ).toBe(true);
    expect(text.some((m) => /^\{.*"requestId"/.test(m))).toBe(true);
  });

  it('names streams as each service does', () => {
    const g = new DemoGenerator({ seed: 9, now: NOW, totalEnvelopes: 200, controlEvery: 0 });
    for (let i = 0; i < 200; i++) {
      const m = g.nextMessage();
      if (m.messageType !== 'DATA_MESSAGE') throw new Error('unexpected control message');
      if (m.logGroup.startsWith('/aws/lambda/'))
        expect(m.logStream).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
      else if (m.logStream.startsWith('ecs/')) expect(m.logStream).toMatch(/^ecs\/[a-z-]+\/[0-9a-f]{32}$/);
      else {
        expect(m.logGroup).toBe('/aws/eks/demo-prod/cluster');
        expect(m.logStream).toMatch(/^[a-z-]+-[0-9a-f]{32}$/);
      }
    }
  });
});

describe('DemoSource', () => {
  it('yields decoded envelopes through the real decode path, with control and malformed ones', async () => {
    const src = new DemoSource({
      envelopes: 100,
      eventsPerEnvelope: 10,
      controlEvery: 25,
      corruptEvery: 30,
      now: NOW,
    });
    expect(src.expected).toBe(100);
    const envs = await collect(src);
    expect(envs).toHaveLength(100);
    const control = envs.filter((e) => e.control);
    const malformed = envs.filter((e) => e.malformed);
    expect(control).toHaveLength(4);
    expect(malformed).toHaveLength(3);
    expect(malformed[0].malformed).toMatchObject({ code: 'ENVELOPE_GZIP_TRUNCATED' });
    expect(malformed[0].malformed?.payload).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const data = envs.filter((e) => !e.control && !e.malformed);
    expect(data.reduce((n, e) => n + e.records.length, 0)).toBe(93 * 10);
    const r = data[0].records[0];
    expect(r.meta).toMatchObject({ source: 'demo', ackId: data[0].ackId, owner: '123456789012' });
    expect(r.fields).toEqual({});
    expect(new Set(envs.map((e) => e.ackId)).size).toBe(100);
    // Ids are unique across the run (they are the idempotency keys).
    const ids = data.flatMap((e) => e.records.map((x) => x.meta.id));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('counts acknowledgements by outcome', async () => {
    const src = new DemoSource({ envelopes: 3, now: NOW });
    for await (const e of src.envelopes(new AbortController().signal))
      await src.ack(e, { kind: 'delivered' });
    expect(src.stats).toEqual({
      envelopes: 3,
      byOutcome: { delivered: 3, dropped: 0, rejected: 0, failed: 0 },
    });
  });

  it('follows until aborted, pacing by rate, with events near real time', async () => {
    const src = new DemoSource({ follow: true, rate: 2000, eventsPerEnvelope: 100 });
    expect(src.expected).toBeUndefined();
    const ac = new AbortController();
    const t0 = Date.now();
    const envs: SourceEnvelope[] = [];
    for await (const e of src.envelopes(ac.signal)) {
      envs.push(e);
      if (envs.length === 5) ac.abort();
    }
    const took = Date.now() - t0;
    expect(envs).toHaveLength(5);
    // 4 envelopes of 100 events at 2,000 events/s must wait ~200 ms before the 5th.
    expect(took).toBeGreaterThanOrEqual(150);
    const ts = envs.flatMap((e) => e.records.map((r) => r.timestamp));
    expect(Math.abs(ts[0] - t0)).toBeLessThan(5_000);
  });

  it('refuses bad options with their path', () => {
    const r = demoConfig.safeParse({ type: 'demo', envelopes: -1, owner: 'abc', surprise: 1 });
    expect(r.success).toBe(false);
    const paths = r.error?.issues.map((i) => i.path.join('.') || i.code);
    expect(paths).toEqual(expect.arrayContaining(['envelopes', 'owner', 'unrecognized_keys']));
  });
});
