import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DecodedEntry } from './container-log.js';
import { MultilineJoiner, type MultilineOptions } from './multiline.js';
import { fileSource, run, waitFor } from './test-helpers.js';

function join_(opts: MultilineOptions, text: string): string[] {
  const j = new MultilineJoiner(opts);
  const out: DecodedEntry[] = [];
  let off = 0;
  for (const line of text.split('\n')) {
    j.push(
      {
        text: line,
        time: undefined,
        stream: undefined,
        offset: off,
        end: off + line.length + 1,
        truncated: false,
      },
      0,
      out,
    );
    off += line.length + 1;
  }
  j.flush(out);
  return out.map((e) => e.text);
}

const JAVA = `2026-12-05 14:00:00.123 ERROR 1 --- [nio-8080-exec-1] o.a.c.c.C.[.[.[/].[dispatcherServlet] : Servlet.service() threw exception
java.lang.IllegalStateException: order 42 has no lines
\tat com.shop.orders.OrderService.total(OrderService.java:88)
\tat com.shop.orders.OrderController.checkout(OrderController.java:41)
\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)
\t... 48 common frames omitted
Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available
\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)
\t... 12 more
\tSuppressed: java.io.IOException: close failed
\t\tat com.shop.db.Pool.close(Pool.java:12)
2026-12-05 14:00:00.200  INFO 1 --- [nio-8080-exec-2] c.s.o.OrderController : checkout ok`;

const PYTHON = `2026-12-05 14:00:00,001 ERROR app: payment failed
Traceback (most recent call last):
  File "/app/pay.py", line 12, in charge
    resp = client.post(url, json=body)
  File "/usr/lib/python3.12/site-packages/httpx/_client.py", line 1145, in post
    return self.request("POST", url)
httpx.ConnectTimeout: timed out

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/app/pay.py", line 20, in handler
    charge(order)
    ~~~~~~^^^^^^^
pay.PaymentError: gateway unreachable
2026-12-05 14:00:01,002 INFO app: retry scheduled`;

const GO = `2026/12/05 14:00:00 starting worker pool size=4
panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a1b2c]

goroutine 17 [running]:
main.(*Worker).process(0x0, {0xc000012345, 0x10})
\t/src/worker.go:42 +0x2c
main.main.func1()
\t/src/main.go:21 +0x55
created by main.main in goroutine 1
\t/src/main.go:19 +0x8a
exit status 2
2026/12/05 14:00:05 restarted`;

const NODE = `{"level":"info","msg":"listening on 3000"}
TypeError: Cannot read properties of undefined (reading 'id')
    at getUser (/app/src/users.js:14:22)
    at async Router.handle (/app/node_modules/express/lib/router/index.js:284:7) {
  code: 'ERR_USER',
  status: 500
}
{"level":"info","msg":"request done"}
/app/src/server.js:40
    throw new Error('boom');
    ^

Error: boom
    at Object.<anonymous> (/app/src/server.js:40:11)
    at node:internal/main/run_main_module:28:49

Node.js v20.11.0
{"level":"info","msg":"after restart"}`;

describe('multiline built-ins', () => {
  it('java: frames, Caused by, ... N more, Suppressed join the log line before them', () => {
    const out = join_({ parsers: ['java'] }, JAVA);
    expect(out).toHaveLength(2);
    expect(out[0].split('\n')).toHaveLength(11);
    expect(out[0]).toMatch(/^2026-12-05 14:00:00.123 ERROR/);
    expect(out[0]).toMatch(/Pool\.close\(Pool\.java:12\)$/);
    expect(out[1]).toMatch(/checkout ok$/);
  });

  it('python: traceback body, final exception line and chained tracebacks', () => {
    const out = join_({ parsers: ['python'] }, PYTHON);
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(/^2026-12-05 14:00:00,001 ERROR app: payment failed\nTraceback/);
    expect(out[0]).toContain('During handling of the above exception');
    expect(out[0]).toMatch(/pay\.PaymentError: gateway unreachable$/);
    expect(out[1]).toBe('2026-12-05 14:00:01,002 INFO app: retry scheduled');
  });

  it('python: a traceback followed directly by a log line ends there', () => {
    const out = join_(
      { parsers: ['python'] },
      'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\nValueError: bad\n\nINFO next',
    );
    expect(out).toEqual([
      'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\nValueError: bad',
      'INFO next',
    ]);
  });

  it('go: a panic with its goroutine dump is one record', () => {
    const out = join_({ parsers: ['go'] }, GO);
    expect(out).toHaveLength(3);
    expect(out[0]).toBe('2026/12/05 14:00:00 starting worker pool size=4');
    expect(out[1]).toMatch(/^panic: runtime error/);
    expect(out[1]).toMatch(/exit status 2$/);
    expect(out[1].split('\n')).toHaveLength(11);
    expect(out[2]).toBe('2026/12/05 14:00:05 restarted');
  });

  it('node: stack frames with error properties, and an uncaught exception report', () => {
    const out = join_({ parsers: ['node'] }, NODE);
    expect(out).toHaveLength(5);
    expect(out[1]).toMatch(/^TypeError: Cannot read properties/);
    expect(out[1]).toMatch(/status: 500\n\}$/);
    expect(out[2]).toBe('{"level":"info","msg":"request done"}');
    expect(out[3]).toMatch(/^\/app\/src\/server\.js:40\n/);
    expect(out[3]).toMatch(/Node\.js v20\.11\.0$/);
    expect(out[4]).toBe('{"level":"info","msg":"after restart"}');
  });

  it('several built-ins together and a firstLine pattern', () => {
    const both = join_({ parsers: ['java', 'python', 'go', 'node'] }, `${JAVA}\n${PYTHON}`);
    expect(both).toHaveLength(4);
    const fl = join_(
      { firstLine: /^\d{4}-\d\d-\d\d / },
      '2026-12-05 a\n  detail 1\nnot indented either\n2026-12-05 b\n2026-12-05 c\n  x',
    );
    expect(fl).toEqual([
      '2026-12-05 a\n  detail 1\nnot indented either',
      '2026-12-05 b',
      '2026-12-05 c\n  x',
    ]);
  });

  it('respects maxLines', () => {
    const out = join_({ firstLine: /^S/, maxLines: 3 }, 'S1\n c\n c\n c\n c\nS2');
    expect(out).toEqual(['S1\n c\n c', ' c\n c', 'S2']);
  });
});

describe('multiline in the file source', () => {
  it('joins a Java trace from a CRI file and flushes the last record of a quiet file after flushMs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logferry-ml-'));
    try {
      const file = join(dir, 'app.log');
      const cri = (l: string, i: number) =>
        `2026-12-05T14:00:${String(i).padStart(2, '0')}.000000000Z stdout F ${l}`;
      writeFileSync(file, '');
      const src = fileSource({
        path: file,
        readFromHead: true,
        dataDir: join(dir, 'state'),
        multiline: { parsers: ['java'], flushMs: 50 },
      });
      const r = run(src);
      await waitFor(() => src.stats.tail.filesOpened === 1, 'opened');
      appendFileSync(file, `${JAVA.split('\n').map(cri).join('\n')}\n`);
      await waitFor(() => r.messages().length === 2, 'both records (the second by the flush timeout)');
      // the flushed record moves the position to the end of the file
      await waitFor(
        () =>
          Object.values(JSON.parse(readFileSync(src.positionsPath, 'utf8')).files).some(
            (p) => (p as { offset: number }).offset === statSync(file).size,
          ),
        'position at EOF',
      );
      await r.stop();
      const recs = r.got.flatMap((e) => e.records);
      expect(recs[0].message.split('\n')).toHaveLength(11);
      expect(recs[0].timestamp).toBe(Date.UTC(2026, 11, 5, 14, 0, 0));
      expect(recs[1].message).toMatch(/checkout ok$/);
      expect(recs[1].timestamp).toBe(Date.UTC(2026, 11, 5, 14, 0, 11));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
