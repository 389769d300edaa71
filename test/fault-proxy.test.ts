/**
 * The fault proxy must do what delivery tests rely on: throttled items are answered 429 in their
 * original positions and never reach the node, decisions repeat for a seed, and the fault budget
 * bounds how many faults a client can see.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../src/core/prng.js';
import { type FaultProxy, startFaultProxy } from './infra/fault-proxy.js';
import { opensearchUrl } from './infra/services.js';

const index = `tproxy-${randomBytes(4).toString('hex')}`;
let os: string;
let proxy: FaultProxy;

beforeAll(async () => {
  os = opensearchUrl();
  proxy = await startFaultProxy(os);
});

afterAll(async () => {
  await proxy?.stop();
  await fetch(`${os}/${index}*`, { method: 'DELETE' });
});

function body(ids: string[], suffix: string): string {
  return ids.map((id) => `{"create":{"_index":"${index}${suffix}","_id":"${id}"}}\n{"n":"${id}"}\n`).join('');
}

async function bulk(url: string, b: string) {
  const res = await fetch(`${url}/_bulk`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body: b,
  });
  const json = (res.headers.get('content-type') ?? '').includes('json');
  return {
    status: res.status,
    body: (json ? await res.json() : { errors: true, items: [] }) as {
      errors: boolean;
      items: { create: { status: number; _id: string } }[];
    },
  };
}

describe('fault proxy', () => {
  it('answers throttled items 429 in place and does not forward them', async () => {
    proxy.setOptions({ seed: 3, itemThrottleRate: 0.4 });
    const ids = Array.from({ length: 50 }, (_, i) => `d${i}`);
    const res = await bulk(proxy.url, body(ids, '-a'));
    expect(res.status).toBe(200);
    expect(res.body.errors).toBe(true);
    expect(res.body.items.map((i) => i.create._id)).toEqual(ids);
    const throttled = res.body.items.filter((i) => i.create.status === 429).map((i) => i.create._id);
    const created = res.body.items.filter((i) => i.create.status === 201).map((i) => i.create._id);
    expect(throttled.length).toBe(proxy.stats.itemsThrottled);
    expect(throttled.length).toBeGreaterThan(5);
    expect(created.length + throttled.length).toBe(50);

    await fetch(`${os}/${index}-a/_refresh`, { method: 'POST' });
    const stored = (await (await fetch(`${os}/${index}-a/_search?size=100&_source=false`)).json()) as {
      hits: { hits: { _id: string }[] };
    };
    expect(stored.hits.hits.map((h) => h._id).sort()).toEqual([...created].sort());
  });

  it('repeats its decisions for a seed and stops injecting after maxFaults', async () => {
    const statuses = async (suffix: string) => {
      proxy.setOptions({ seed: 11, itemThrottleRate: 0.3, maxFaults: 2 });
      const out: number[][] = [];
      for (let k = 0; k < 4; k++) {
        const ids = Array.from({ length: 20 }, (_, i) => `${suffix}${k}-${i}`);
        out.push((await bulk(proxy.url, body(ids, `-${suffix}`))).body.items.map((i) => i.create.status));
      }
      return out;
    };
    const a = await statuses('x');
    const b = await statuses('y');
    expect(a).toEqual(b);
    // Two faulty requests, then everything passes.
    expect(a.map((s) => s.includes(429))).toEqual([true, true, false, false]);
  });

  it('resets, fails and limits sizes as configured', async () => {
    proxy.setOptions({ seed: 5, requestFailRate: 1, maxFaults: 1 });
    expect((await bulk(proxy.url, body(['r1'], '-b'))).status).toBe(503);
    expect((await bulk(proxy.url, body(['r1'], '-b'))).status).toBe(200);

    proxy.setOptions({ seed: 5, resetRate: 1, maxFaults: 4 });
    const results = await Promise.allSettled(
      [1, 2, 3, 4].map((k) =>
        fetch(`${proxy.url}/_bulk`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-ndjson' },
          body: body([`s${k}`], '-c'),
        }),
      ),
    );
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(proxy.stats.resetsBefore + proxy.stats.resetsAfter).toBe(4);
    await fetch(`${os}/${index}-c/_refresh`, { method: 'POST' });
    const count = (await (await fetch(`${os}/${index}-c/_count`)).json()) as { count?: number };
    // Resets after forwarding stored the documents although the client never heard so.
    expect(count.count ?? 0).toBe(proxy.stats.resetsAfter);

    proxy.setOptions({ maxBodyBytes: 100 });
    expect((await bulk(proxy.url, body(['t1', 't2'], '-d'))).status).toBe(413);
    expect(proxy.stats.tooLarge).toBe(1);
  });

  it('draws the same numbers for the same seed', () => {
    const a = mulberry32(9);
    const b = mulberry32(9);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(new Set(xs).size).toBe(5);
  });
});
