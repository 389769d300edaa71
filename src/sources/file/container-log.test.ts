import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ContainerLogDecoder,
  type DecodedEntry,
  detectFormat,
  parseKubernetesFileName,
} from './container-log.js';
import { fileSource, run } from './test-helpers.js';

function decode(format: 'auto' | 'cri' | 'docker' | 'plain', lines: string[], maxBytes?: number) {
  const d = new ContainerLogDecoder(format, maxBytes);
  const out: DecodedEntry[] = [];
  let off = 0;
  for (const l of lines) {
    const len = Buffer.byteLength(l) + 1;
    d.push(l, off, off + len, false, out);
    off += len;
  }
  return { d, out, end: off };
}

const ID = 'a'.repeat(20) + '0123456789abcdef'.repeat(2) + 'b'.repeat(12);

describe('CRI format', () => {
  it('decodes time, stream and text; joins P pieces per stream, interleaved with the other stream', () => {
    const big1 = 'x'.repeat(16384);
    const big2 = 'y'.repeat(16384);
    const { d, out, end } = decode('auto', [
      '2026-12-05T14:00:00.123456789Z stdout F {"level":"info","msg":"started"}',
      `2026-12-05T14:00:01.000000001Z stdout P ${big1}`,
      '2026-12-05T14:00:01.000000002Z stderr F warning: disk 91% full',
      `2026-12-05T14:00:01.000000003Z stdout P ${big2}`,
      '2026-12-05T14:00:01.000000004Z stdout F  tail end',
      '2026-12-05T14:00:02+02:00 stdout F ',
    ]);
    expect(d.format).toBe('cri');
    expect(out.map((e) => [e.stream, e.text.length])).toEqual([
      ['stdout', 32],
      ['stderr', 22],
      ['stdout', 16384 * 2 + 9],
      ['stdout', 0],
    ]);
    expect(out[0].time).toBe(Date.UTC(2026, 11, 5, 14, 0, 0, 123));
    expect(out[2].text).toBe(`${big1}${big2} tail end`);
    // the joined entry keeps the first piece's time and offset and ends after the F line
    expect(out[2].time).toBe(Date.UTC(2026, 11, 5, 14, 0, 1, 0));
    expect(out[2].offset).toBe(out[0].end);
    expect(out[3].time).toBe(Date.UTC(2026, 11, 5, 12, 0, 2));
    expect(out[3].end).toBe(end);
    expect(d.pendingStart()).toBeUndefined();
    expect(d.stats.partialsJoined).toBe(2);
  });

  it('holds a P piece without its F and reports where it starts; caps a runaway reassembly', () => {
    const { d, out } = decode('cri', [
      '2026-12-05T14:00:00Z stdout F one',
      '2026-12-05T14:00:01Z stdout P half',
    ]);
    expect(out.map((e) => e.text)).toEqual(['one']);
    expect(d.pendingStart()).toBe(out[0].end);
    const capped = decode(
      'cri',
      [
        `2026-12-05T14:00:01Z stdout P ${'a'.repeat(80)}`,
        `2026-12-05T14:00:01Z stdout P ${'b'.repeat(80)}`,
        '2026-12-05T14:00:01Z stdout F c',
      ],
      100,
    );
    expect(capped.out[0].text).toBe('a'.repeat(80) + 'b'.repeat(20));
    expect(capped.out[0].truncated).toBe(true);
  });

  it('keeps malformed lines as text and counts them', () => {
    const { d, out } = decode('cri', ['not a cri line', '2026-12-05T14:00:00Z stdout X nope']);
    expect(out.map((e) => e.text)).toEqual(['not a cri line', '2026-12-05T14:00:00Z stdout X nope']);
    expect(d.stats.malformed).toBe(2);
  });
});

describe('CRI times', () => {
  it('match Date.parse for every form, across lines of the same and of different seconds', () => {
    const times = [
      '2026-11-22T00:00:00.0039Z',
      '2026-11-22T00:00:00.9999999Z',
      '2026-11-22T00:00:00.5Z',
      '2026-11-22T00:00:01.12Z',
      '2026-11-22T00:00:01Z',
      '2026-11-22T00:00:01.123456789Z',
      '2026-11-22T00:00:01.123456789012Z',
      '2026-11-22T00:00:01.123+02:00',
      '2026-11-22T00:00:01.Z',
      '2026-11-22T00:00:01.1a2Z',
      '2026-13-22T00:00:01.1Z',
      '2026-11-23T00:00:01.250Z',
    ];
    const { out } = decode(
      'cri',
      times.map((t) => `${t} stdout F hi`),
    );
    expect(out.map((e) => e.time)).toEqual(
      times.map((t) => (Number.isNaN(Date.parse(t)) ? undefined : Date.parse(t))),
    );
    expect(out.every((e) => e.stream === 'stdout' && e.text === 'hi')).toBe(true);
  });
});

describe('Docker json-file format', () => {
  it('decodes log/stream/time and joins 16 KiB pieces without a trailing newline', () => {
    const p1 = 'p'.repeat(16384);
    const { d, out } = decode('auto', [
      JSON.stringify({ log: 'hello "world"\n', stream: 'stdout', time: '2026-12-05T14:00:00.5Z' }),
      JSON.stringify({ log: p1, stream: 'stdout', time: '2026-12-05T14:00:01.000000001Z' }),
      JSON.stringify({ log: 'err line\n', stream: 'stderr', time: '2026-12-05T14:00:01.2Z' }),
      JSON.stringify({ log: p1, stream: 'stdout', time: '2026-12-05T14:00:01.3Z' }),
      JSON.stringify({ log: 'end\r\n', stream: 'stdout', time: '2026-12-05T14:00:01.4Z' }),
      '{"log": broken',
    ]);
    expect(d.format).toBe('docker');
    expect(out.map((e) => e.text.length)).toEqual([13, 8, 16384 * 2 + 3, 14]);
    expect(out[0]).toMatchObject({
      text: 'hello "world"',
      stream: 'stdout',
      time: Date.UTC(2026, 11, 5, 14, 0, 0, 500),
    });
    expect(out[1].stream).toBe('stderr');
    expect(out[2].time).toBe(Date.UTC(2026, 11, 5, 14, 0, 1, 0));
    expect(d.stats.malformed).toBe(1);
  });

  it('detects formats', () => {
    expect(detectFormat('{"log":"x\\n","stream":"stdout","time":"2026-01-01T00:00:00Z"}')).toBe('docker');
    expect(detectFormat('2026-01-01T00:00:00.1Z stderr F boom')).toBe('cri');
    expect(detectFormat('2026-01-01 INFO hello')).toBe('plain');
    expect(detectFormat('{"msg":"json app log"}')).toBe('plain');
  });
});

describe('Kubernetes file names', () => {
  it('parses pod, namespace, container and id', () => {
    expect(
      parseKubernetesFileName(`/var/log/containers/coredns-5d78c9869d-x7k2p_kube-system_coredns-${ID}.log`),
    ).toEqual({
      pod_name: 'coredns-5d78c9869d-x7k2p',
      namespace_name: 'kube-system',
      container_name: 'coredns',
      docker_id: ID,
    });
    // container names may contain dashes; pod names may contain dots
    expect(parseKubernetesFileName(`web.v2-0_shop-prod_istio-proxy-${ID}.log`)).toMatchObject({
      pod_name: 'web.v2-0',
      namespace_name: 'shop-prod',
      container_name: 'istio-proxy',
    });
    expect(parseKubernetesFileName('/var/log/syslog')).toBeUndefined();
    expect(parseKubernetesFileName(`/x/pod_ns_c-${'z'.repeat(10)}.log`)).toBeUndefined();
  });

  it('a CRI container log file becomes records with runtime times, kubernetes fields, tag and stable ids', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logferry-k8s-'));
    try {
      const logs = join(dir, 'var/log/containers');
      mkdirSync(logs, { recursive: true });
      const file = join(logs, `api-7f9c-abcde_shop_api-${ID}.log`);
      writeFileSync(
        file,
        [
          '2026-12-05T14:00:00.100000000Z stdout F {"level":"info","msg":"listening"}',
          '2026-12-05T14:00:00.200000000Z stderr P part one, ',
          '2026-12-05T14:00:00.200000001Z stderr F part two',
          '',
        ].join('\n'),
      );
      const src = fileSource({
        path: join(logs, '*.log'),
        readFromHead: true,
        once: true,
        dataDir: join(dir, 'state'),
        tag: 'kube.*',
      });
      const r = run(src);
      await r.done;
      const recs = r.got.flatMap((e) => e.records);
      expect(recs.map((x) => x.message)).toEqual([
        '{"level":"info","msg":"listening"}',
        'part one, part two',
      ]);
      expect(recs[0].timestamp).toBe(Date.UTC(2026, 11, 5, 14, 0, 0, 100));
      expect(recs[1].timestamp).toBe(Date.UTC(2026, 11, 5, 14, 0, 0, 200));
      expect(recs[1].fields).toMatchObject({
        stream: 'stderr',
        kubernetes: {
          pod_name: 'api-7f9c-abcde',
          namespace_name: 'shop',
          container_name: 'api',
          docker_id: ID,
        },
        tag: `kube.${file.slice(1).split('/').join('.')}`,
      });
      expect(recs[0].meta.logGroup).toBe(file);
      expect(recs[0].meta.logStream).toBe(`api-7f9c-abcde_shop_api-${ID}.log`);
      const firstLen = Buffer.byteLength(
        '2026-12-05T14:00:00.100000000Z stdout F {"level":"info","msg":"listening"}\n',
      );
      expect(recs[1].meta.id).toMatch(new RegExp(`^\\d+:\\d+:${firstLen}$`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('partial lines and checkpoints', () => {
  it('the position never passes a CRI P piece whose F has not arrived; the next run rebuilds the line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logferry-cri-'));
    try {
      const file = join(dir, 'c.log');
      const full = '2026-12-05T14:00:00Z stdout F done\n';
      writeFileSync(file, `${full}2026-12-05T14:00:01Z stdout P first half, \n`);
      const state = join(dir, 'state');
      const src = fileSource({ path: file, readFromHead: true, once: true, dataDir: state, format: 'cri' });
      const r = run(src);
      await r.done;
      expect(r.messages()).toEqual(['done']);
      expect(Object.values(JSON.parse(readFileSync(src.positionsPath, 'utf8')).files)).toMatchObject([
        { offset: full.length },
      ]);
      appendFileSync(file, '2026-12-05T14:00:02Z stdout F second half\n');
      const r2 = run(fileSource({ path: file, once: true, dataDir: state, format: 'cri' }));
      await r2.done;
      expect(r2.messages()).toEqual(['first half, second half']);
      expect(r2.got[0].records[0].timestamp).toBe(Date.UTC(2026, 11, 5, 14, 0, 1));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
