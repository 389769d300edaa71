/**
 * One run signal (a Lambda invocation's deadline, the daemon's shutdown) is shared by every
 * concurrent send of every sink. Each waiter used to add its own 'abort' listener to it, so 11+
 * sends in flight made Node print MaxListenersExceededWarning (seen in the Kinesis bundle). These
 * tests run many concurrent sends through `deliver` into real HTTP and OpenSearch servers under
 * one signal and assert that no warning is emitted and the shared signal keeps one listener.
 */
import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { startNdjsonServer } from '../../test/infra/http-log-services.js';
import { opensearchUrl } from '../../test/infra/services.js';
import { HttpSink, httpSinkConfig } from '../sinks/http.js';
import { createOpenSearchSink, opensearchSinkConfig } from '../sinks/opensearch.js';
import { onAbort, requestSignal } from './abort.js';
import { deliver } from './deliver.js';
import type { LogRecord } from './record.js';
import { sleep } from './retry.js';
import type { Sink } from './sink.js';

const T0 = Date.UTC(2026, 11, 6, 3, 0, 0);
const SENDS = 40;

function records(n: number, run: string): LogRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    timestamp: T0 + i,
    message: `event ${i} of ${run}`,
    fields: { i },
    meta: {
      owner: '123456789012',
      logGroup: '/aws/lambda/orders-api',
      logStream: '2026/12/06/[$LATEST]abc',
      id: `${run}-${i}`,
      source: 'test',
      ackId: 'a',
    },
  }));
}

/** Collects the process warnings emitted while `fn` runs (and one turn after it). */
async function warningsDuring(fn: () => Promise<void>): Promise<Error[]> {
  const seen: Error[] = [];
  const on = (w: Error) => seen.push(w);
  process.on('warning', on);
  try {
    await fn();
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('warning', on);
  }
  return seen;
}

/** Delivers SENDS one-record batches at once under one signal; tracks the listeners on it. */
async function concurrentSends(sink: Sink<unknown>, run: string): Promise<{ peak: number; after: number }> {
  const ctl = new AbortController();
  let peak = 0;
  const watch = setInterval(() => {
    peak = Math.max(peak, getEventListeners(ctl.signal, 'abort').length);
  }, 1);
  try {
    // Several deliveries at once (as the runner's lanes and a Lambda's fan-out do), each with
    // concurrent batches of one record.
    const limits = { ...sink.limits, maxRecords: 1 };
    const one = Object.assign(Object.create(sink), { limits }) as Sink<unknown>;
    const outcomes = await Promise.all(
      Array.from({ length: 4 }, (_, k) =>
        deliver(one, records(SENDS / 4, `${run}-${k}`), { concurrency: SENDS / 4, signal: ctl.signal }),
      ),
    );
    for (const o of outcomes.flat()) expect(o.kind).toBe('delivered');
  } finally {
    clearInterval(watch);
  }
  return { peak, after: getEventListeners(ctl.signal, 'abort').length };
}

const open: { close?: () => Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close?.()));
});

describe('one shared abort signal under concurrent sends', () => {
  it('fans out through one listener and detaches each subscriber when its wait ends', () => {
    const ctl = new AbortController();
    const calls: number[] = [];
    const stops = Array.from({ length: 50 }, (_, i) => onAbort(ctl.signal, () => calls.push(i)));
    expect(getEventListeners(ctl.signal, 'abort')).toHaveLength(1);
    for (const stop of stops.slice(0, 45)) stop();
    const req = requestSignal(ctl.signal);
    ctl.abort(new Error('deadline'));
    expect(calls).toEqual([45, 46, 47, 48, 49]);
    expect(req.signal.aborted).toBe(true);
    expect(req.signal.reason).toBe(ctl.signal.reason);
    // Subscribing to an aborted signal calls at once.
    let late = false;
    onAbort(ctl.signal, () => {
      late = true;
    });
    expect(late).toBe(true);
  });

  it('sleeps ended by the signal: one listener for many, none left after', async () => {
    const ctl = new AbortController();
    const sleeps = Array.from({ length: 30 }, () => sleep(60_000, ctl.signal));
    expect(getEventListeners(ctl.signal, 'abort')).toHaveLength(1);
    const warnings = await warningsDuring(async () => {
      ctl.abort();
      await Promise.all(sleeps);
    });
    expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
  });

  it(`http sink: ${SENDS} concurrent sends, no MaxListenersExceededWarning`, async () => {
    const server = await startNdjsonServer();
    open.push(server);
    const sink = new HttpSink(httpSinkConfig.parse({ type: 'http', url: server.url }), {});
    let res = { peak: 0, after: 0 };
    const warnings = await warningsDuring(async () => {
      res = await concurrentSends(sink as Sink<unknown>, 'http');
    });
    expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
    expect(server.docs).toHaveLength(SENDS);
    expect(res.peak).toBeLessThanOrEqual(1);
    expect(res.after).toBeLessThanOrEqual(1);
  });

  it(`opensearch sink: ${SENDS} concurrent bulk requests, no MaxListenersExceededWarning`, async () => {
    const index = `abort-signal-${process.pid}-${Date.now()}`;
    const sink = await createOpenSearchSink(
      opensearchSinkConfig.parse({ type: 'opensearch', url: opensearchUrl(), index }),
    );
    open.push(sink);
    let res = { peak: 0, after: 0 };
    const warnings = await warningsDuring(async () => {
      res = await concurrentSends(sink as Sink<unknown>, 'os');
    });
    expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
    expect(res.peak).toBeLessThanOrEqual(1);
    await fetch(`${opensearchUrl()}/${index}/_refresh`, { method: 'POST' });
    const count = (await (await fetch(`${opensearchUrl()}/${index}/_count`)).json()) as { count: number };
    expect(count.count).toBe(SENDS);
    await fetch(`${opensearchUrl()}/${index}`, { method: 'DELETE' });
  });
});
