import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../core/prng.js';
import { compileQuery } from '../index.js';
import type { Row } from '../types.js';

const T0 = Date.UTC(2026, 11, 1, 0, 0, 0);
const HOUR = 3_600_000;
const SPAN = 4 * HOUR;
/** With a 4 h span the buckets are 2 min wide and the recent part is the last hour. */
const RECENT = T0 + 3 * HOUR;

type Inject = 'none' | 'new' | 'spike' | 'token' | 'numeric' | 'http';

/**
 * Four hours of steady traffic from a small service (seeded), optionally with one change in the
 * last hour. Steady patterns: request lines with a status and latency, cache lines, a job line with
 * a region token, a rare warning.
 */
function traffic(seed: number, inject: Inject): Row[] {
  const r = mulberry32(seed);
  const rows: Row[] = [];
  const n = 6000;
  for (let i = 0; i < n; i++) {
    const ts = T0 + Math.floor(r() * SPAN);
    const recent = ts >= RECENT;
    const p = r();
    let m: string;
    if (p < 0.5) {
      let status = [200, 200, 200, 201, 304, 404][Math.floor(r() * 6)];
      let took = Math.round(80 + r() * 40);
      if (recent && inject === 'http' && r() < 0.4) status = 503;
      if (recent && inject === 'numeric') took *= 4;
      m = `GET /api/items/${Math.floor(r() * 1000)} status=${status} took=${took}ms`;
    } else if (p < 0.8) {
      m = `cache ${r() < 0.7 ? 'hit' : 'miss'} for key k${Math.floor(r() * 500)}`;
    } else if (p < 0.98) {
      const regions = recent && inject === 'token' && r() < 0.5 ? ['ap-south-2'] : ['us-east-1', 'eu-west-1'];
      m = `job sync finished region=${regions[Math.floor(r() * regions.length)]} items=${Math.floor(r() * 50)}`;
    } else {
      m = `WARN slow disk on volume vol${Math.floor(r() * 9)}`;
    }
    rows.push({ '@timestamp': ts, '@message': m });
  }
  if (inject === 'new')
    for (let i = 0; i < 25; i++)
      rows.push({
        '@timestamp': RECENT + i * 60_000,
        '@message': `ERROR payment gateway refused card ${1000 + i}`,
      });
  if (inject === 'spike')
    for (let i = 0; i < 400; i++)
      rows.push({
        '@timestamp': RECENT + Math.floor((i * HOUR) / 400),
        '@message': `WARN slow disk on volume vol${i % 9}`,
      });
  return rows;
}

async function anomalies(rows: Row[]) {
  const res = await compileQuery('pattern @message | anomaly').execute(rows);
  return res.rows.filter((r) => r['@anomalyType'] !== null);
}

describe('anomaly', () => {
  it('adds anomaly columns to the pattern columns', async () => {
    const res = await compileQuery('pattern @message | anomaly').execute(traffic(1, 'none'));
    expect(res.fields).toEqual([
      '@pattern',
      '@ratio',
      '@sampleCount',
      '@severityLabel',
      '@tokens',
      '@anomalyType',
      '@priority',
      '@description',
    ]);
  });

  it('flags nothing on quiet traffic (false positives counted over 20 seeds)', async () => {
    let falsePositives = 0;
    for (let seed = 1; seed <= 20; seed++) falsePositives += (await anomalies(traffic(seed, 'none'))).length;
    expect(falsePositives).toBe(0);
  });

  const cases: [Inject, string, RegExp][] = [
    ['new', 'NewPattern', /^ERROR payment gateway refused card/],
    ['spike', 'PatternFrequency', /^WARN slow disk/],
    ['token', 'TokenVariation', /^job sync finished region=/],
    ['numeric', 'NumericToken', /^GET .* took=/],
    ['http', 'HttpErrorCode', /^GET .* status=/],
  ];
  for (const [inject, kind, pattern] of cases) {
    it(`finds an injected ${kind} anomaly, on that pattern only, in 5 of 5 seeds`, async () => {
      for (let seed = 1; seed <= 5; seed++) {
        const found = await anomalies(traffic(seed, inject));
        const hit = found.filter((r) => (r['@anomalyType'] as string).split(',').includes(kind));
        expect(hit.length, `seed ${seed}: ${JSON.stringify(found)}`).toBe(1);
        expect(hit[0]['@pattern']).toMatch(pattern);
        // Nothing else flagged, and the flagged row comes first.
        expect(found.length, JSON.stringify(found)).toBe(1);
        expect(found[0]['@description']).toEqual(expect.any(String));
      }
    });
  }

  it('gives a high priority to a new ERROR pattern', async () => {
    const [row] = await anomalies(traffic(3, 'new'));
    expect(row['@priority']).toBe('HIGH');
  });

  it('does not depend on input order', async () => {
    const rows = traffic(4, 'http');
    const a = await compileQuery('pattern @message | anomaly').execute(rows);
    const b = await compileQuery('pattern @message | anomaly').execute(rows.slice().reverse());
    expect(b.rows).toEqual(a.rows);
  });
});
