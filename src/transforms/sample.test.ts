import { describe, expect, it } from 'vitest';
import { runStages } from '../core/stages.js';
import { createSampleTransform, sampleSchema } from './sample.js';
import { issues, testRecord as rec } from './test-records.js';

const make = (o: Record<string, unknown>) =>
  createSampleTransform(sampleSchema.parse({ type: 'sample', ...o }));
const many = (n: number) =>
  Array.from({ length: n }, (_, i) => rec({ req: `r${i % 500}` }, {}, { id: `ev-${i}` }));

describe('sample transform', () => {
  it('keeps about one in rate, drops the rest as SAMPLED_OUT', async () => {
    const out = await runStages([make({ rate: 10 })], many(20_000));
    expect(out.records.length).toBeGreaterThan(1700);
    expect(out.records.length).toBeLessThan(2300);
    expect(out.dropped.every((d) => d.outcome.code === 'SAMPLED_OUT')).toBe(true);
    expect(out.records.length + out.dropped.length).toBe(20_000);
  });

  it('is deterministic: same records, same decisions, whatever the order or instance', async () => {
    const a = (await runStages([make({ rate: 4 })], many(2000))).records.map((r) => r.meta.id);
    const b = (await runStages([make({ rate: 4 })], many(2000).reverse())).records.map((r) => r.meta.id);
    expect(new Set(b)).toEqual(new Set(a));
    const c = (await runStages([make({ rate: 4, seed: 1 })], many(2000))).records.map((r) => r.meta.id);
    expect(new Set(c)).not.toEqual(new Set(a));
  });

  it('by key: all records of a key share one decision', async () => {
    const out = await runStages([make({ rate: 5, key: 'req' })], many(5000));
    const kept = new Set(out.records.map((r) => r.fields.req));
    const dropped = new Set(out.dropped.map((d) => d.record.fields.req));
    expect([...kept].some((k) => dropped.has(k))).toBe(false);
    expect(kept.size).toBeGreaterThan(60);
    expect(kept.size).toBeLessThan(140);
  });

  it('condition / exclude / missing keys are always kept; rate 1 keeps all', async () => {
    const t = make({ rate: 1000, condition: 'verb = "get"', exclude: 'code >= 500', key: 'req' });
    expect(t.apply(rec({ verb: 'create', req: 'x' }))).not.toBeNull();
    expect(t.apply(rec({ verb: 'get', code: 503, req: 'x' }))).not.toBeNull();
    expect(t.apply(rec({ verb: 'get' }))).not.toBeNull();
    const all = await runStages([make({ rate: 1 })], many(100));
    expect(all.records.length).toBe(100);
  });

  it('refuses bad config', async () => {
    expect(issues(sampleSchema.safeParse({ type: 'sample', rate: 0 })).join()).toMatch(/rate/);
    expect(issues(sampleSchema.safeParse({ type: 'sample', rate: 0.5 })).join()).toMatch(/rate/);
    expect(issues(sampleSchema.safeParse({ type: 'sample' })).join()).toMatch(/rate/);
    expect(issues(sampleSchema.safeParse({ type: 'sample', rate: 2, key: 'a +' })).join()).toMatch(
      /key: expression/,
    );
    expect(issues(sampleSchema.safeParse({ type: 'sample', rate: 2, ratio: 1 })).join()).toMatch(/ratio/);
  });
});
