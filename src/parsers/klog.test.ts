import { describe, expect, it } from 'vitest';
import { isParseFailure } from '../core/pipeline.js';
import type { LogRecord } from '../core/record.js';
import { mulberry32 } from '../core/prng.js';
import { createKlogParser, KLOG_HEADER, klogYear, parseKlog } from './klog.js';

const at = (iso: string) =>
  ({ timestamp: Date.parse(iso), message: '', fields: {}, meta: {} }) as unknown as LogRecord;
const JUNE = at('2023-06-13T10:42:08Z');

describe('klog parser', () => {
  const p = createKlogParser();

  it('parses a kube-apiserver line', () => {
    const msg =
      'I0613 10:42:07.123456      11 controller.go:611] quota admission added evaluator for: leases.coordination.k8s.io';
    expect(p.parse(msg, JUNE)).toEqual({
      level: 'info',
      time: '2023-06-13T10:42:07.123456Z',
      threadId: 11,
      file: 'controller.go',
      line: 611,
      msg: 'quota admission added evaluator for: leases.coordination.k8s.io',
    });
  });

  it('maps W/E/F severities', () => {
    const w =
      'W0613 10:42:07.000001       1 reflector.go:424] k8s.io/client-go/informers/factory.go:150: failed to list *v1.Pod: pods is forbidden';
    const e =
      'E0613 10:42:07.000001       1 leaderelection.go:330] error retrieving resource lock kube-system/kube-scheduler: context deadline exceeded';
    const f = 'F0613 10:42:07.000001       1 server.go:100] fatal: cannot start';
    expect((p.parse(w, JUNE) as Record<string, unknown>).level).toBe('warning');
    expect((p.parse(e, JUNE) as Record<string, unknown>).level).toBe('error');
    expect((p.parse(f, JUNE) as Record<string, unknown>).level).toBe('fatal');
  });

  it('extracts structured key="value" pairs without overwriting header fields', () => {
    const msg =
      'I0613 10:42:07.123456       1 event.go:294] "Event occurred" object="kube-system/coredns-5d78c9869d-abcde" fieldPath="" kind="Pod" apiVersion="v1" type="Normal" reason="Scheduled" message="Successfully assigned kube-system/coredns to ip-10-0-1-2" level=9';
    const r = p.parse(msg, JUNE) as Record<string, unknown>;
    expect(r.msg).toBe('Event occurred');
    expect(r.object).toBe('kube-system/coredns-5d78c9869d-abcde');
    expect(r.kind).toBe('Pod');
    expect(r.reason).toBe('Scheduled');
    expect(r.fieldPath).toBe('');
    expect(r.level).toBe('info');
  });

  it('needs a 6-digit fraction; structured values unescape quotes', () => {
    const msg = 'E0613 10:42:07.5       1 x.go:1] bad header';
    expect(isParseFailure(p.parse(msg, JUNE))).toBe(true);
    const ok =
      'I0613 10:42:07.500000       1 garbagecollector.go:201] "syncing garbage collector with updated resources from discovery" diff="added: [], removed: [\\"v1/Secret\\"]"';
    expect((p.parse(ok, JUNE) as Record<string, unknown>).diff).toBe('added: [], removed: ["v1/Secret"]');
  });

  it('FLAG start-up lines yield flag and flagValue', () => {
    const msg = 'I0613 10:40:00.000000      10 flags.go:64] FLAG: --advertise-address="10.0.12.34"';
    const r = p.parse(msg, JUNE) as Record<string, unknown>;
    expect(r.flag).toBe('advertise-address');
    expect(r.flagValue).toBe('10.0.12.34');
    const r2 = p.parse('I0613 10:40:00.000000      10 flags.go:64] FLAG: --v=2', JUNE) as Record<
      string,
      unknown
    >;
    expect(r2).toMatchObject({ flag: 'v', flagValue: '2' });
  });

  it('takes the year from the event time, across New Year', () => {
    const dec = 'I1231 23:59:59.999999       1 a.go:1] late';
    expect((p.parse(dec, at('2024-01-01T00:00:01Z')) as Record<string, unknown>).time).toBe(
      '2023-12-31T23:59:59.999999Z',
    );
    expect(klogYear(1, Date.parse('2023-12-31T23:59:59Z'))).toBe(2024);
    expect(klogYear(6, Date.parse('2023-06-13T00:00:00Z'))).toBe(2023);
  });

  it('structured: false keeps the quoted message verbatim', () => {
    const q = createKlogParser({ structured: false });
    const msg = 'I0613 10:42:07.123456       1 a.go:1] "Starting" controller="x"';
    expect((q.parse(msg, JUNE) as Record<string, unknown>).msg).toBe('"Starting" controller="x"');
  });

  it('fails on non-klog lines without throwing', () => {
    for (const m of [
      '',
      'hello',
      'Flag --insecure-port has been deprecated',
      '{"kind":"Event"}',
      'X0613 10:42:07.123456 1 a.go:1] x',
    ]) {
      expect(isParseFailure(p.parse(m, JUNE)), m).toBe(true);
    }
  });
});

describe('klogYear: the month cache gives what a Date per line gives', () => {
  it('agrees with the Date arithmetic across month and year boundaries and odd inputs', () => {
    const direct = (month: number, ms: number) => {
      const d = new Date(ms);
      const y = d.getUTCFullYear();
      const em = d.getUTCMonth() + 1;
      if (month === 12 && em === 1) return y - 1;
      if (month === 1 && em === 12) return y + 1;
      return y;
    };
    const edges = [
      Date.UTC(2025, 11, 31, 23, 59, 59, 999),
      Date.UTC(2026, 0, 1),
      Date.UTC(2026, 0, 31, 23, 59, 59, 999),
      Date.UTC(2026, 1, 1),
      Date.UTC(2024, 1, 29, 12),
      Date.UTC(2026, 11, 1) - 1,
      0,
      -1,
      Date.UTC(1969, 11, 31, 23),
    ];
    // Out of order on purpose: every call may land in another month than the cached one.
    for (let round = 0; round < 2; round++)
      for (const ms of round === 0 ? edges : [...edges].reverse())
        for (let month = 1; month <= 12; month++) expect(klogYear(month, ms)).toBe(direct(month, ms));
    // Not a finite time: the current year's rule, as before.
    expect(klogYear(6, Number.NaN)).toBe(direct(6, Date.now()));
  });

  it('reads the header exactly as KLOG_HEADER matches it, on real and mutated lines', () => {
    const r = mulberry32(3);
    const lines = [
      'I0613 10:42:07.123456      11 controller.go:611] quota admission added evaluator for: leases',
      'W1231 23:59:59.999999 1 a:1]x',
      'E0101 00:00:00.000000 123456789012345678901 file.go:99999999999999999999] big numbers',
      'F0613 10:42:07.000001       1 server.go:100]',
      'I0613 10:42:07.123456 11 a b.go:1] space in file',
      'I0613 10:42:07.12345 11 a.go:1] short fraction',
      'I0613 10:42:07.123456 11 a.go:] no line',
      'I0613 10:42:07.123456 11 :1] no file',
      'I0613 10:42:07.123456 a.go:1] no thread',
      'I0613 10:42:07.123456 11  a.go:1] two spaces',
    ];
    const alphabet = 'IWEFX0123456789 :.]ab\u00e9';
    let matched = 0;
    for (let n = 0; n < 20_000; n++) {
      let s = lines[n % lines.length];
      const edits = Math.floor(r() * 3);
      for (let k = 0; k < edits; k++) {
        const at = Math.floor(r() * (s.length + 1));
        const c = alphabet[Math.floor(r() * alphabet.length)];
        const op = r();
        s =
          op < 0.4
            ? s.slice(0, at) + c + s.slice(at + 1)
            : op < 0.7
              ? s.slice(0, at) + c + s.slice(at)
              : s.slice(0, at) + s.slice(at + 1);
      }
      const m = KLOG_HEADER.exec(s);
      const got = parseKlog(s, JUNE.timestamp, false);
      if (!m) {
        expect(isParseFailure(got), s).toBe(true);
        continue;
      }
      matched++;
      expect(got, s).toEqual({
        level: { I: 'info', W: 'warning', E: 'error', F: 'fatal' }[m[1]],
        // The event time is in June: every month reads as 2023.
        time: `2023-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`,
        threadId: Number(m[8]),
        file: m[9],
        line: Number(m[10]),
        msg: s.slice(m[0].length),
      });
    }
    // Both answers are exercised.
    expect(matched).toBeGreaterThan(2000);
    expect(matched).toBeLessThan(18_000);
  });
});
