import { afterEach, describe, expect, it } from 'vitest';
import { mulberry32 } from '../core/prng.js';
import type { LogRecord } from '../core/record.js';
import {
  buildMaskTransform,
  buildPatterns,
  buildPrefilter,
  clearRegisteredSecrets,
  createMasker,
  createMaskTransform,
  DEFAULT_SENSITIVE_KEYS,
  isObjectReference,
  looksRandom,
  type MaskOptions,
  maskOptionsSchema,
  registerSecret,
  withSecretRegistration,
} from './mask.js';
import { transforms } from './index.js';

const rec = (message: string, fields: Record<string, unknown> = {}): LogRecord => ({
  timestamp: 1,
  message,
  fields,
  meta: { owner: '1', logGroup: 'g', logStream: 's', id: '1', source: 'test', ackId: 'a' },
});

afterEach(() => clearRegisteredSecrets());

describe('mask: value patterns in text', () => {
  const m = createMasker();
  const cases: [string, string][] = [
    ['GET /login?user=bob&password=hunter2&next=/home', 'GET /login?user=bob&password=****&next=/home'],
    [
      'level=info msg="login" password="my secret pw" user=bob',
      'level=info msg="login" password="****" user=bob',
    ],
    [
      '{"user":"bob","password":"p@ss\\"word","token": 12345, "ok": null}',
      '{"user":"bob","password":"****","token": ****, "ok": null}',
    ],
    [
      '{"msg":"{\\"client_secret\\":\\"abc123\\",\\"x\\":1}"}',
      '{"msg":"{\\"client_secret\\":\\"****\\",\\"x\\":1}"}',
    ],
    ["{'api_key': 'k-123456'}", "{'api_key': '****'}"],
    ['Authorization: Bearer abcdef123456.xyz', 'Authorization: Bearer ****'],
    ['authorization=Bearer abcdef123456', 'authorization=Bearer ****'],
    ['hdr Basic dXNlcjpwYXNzd29yZA== end', 'hdr Basic **** end'],
    ['key id AKIAIOSFODNN7EXAMPLE used, session ASIAY34FZKBOKMUTVV7A', 'key id **** used, session ****'],
    ['aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'aws_secret_access_key = ****'],
    ['SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"', 'SecretAccessKey: "****"'],
    [
      'connecting to postgres://admin:s3cr3t@db.internal:5432/app',
      'connecting to postgres://admin:****@db.internal:5432/app',
    ],
    ['-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY----- after', '**** after'],
    ['truncated -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq', 'truncated ****'],
    [
      'id_token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U ok',
      'id_token **** ok',
    ],
    ['sessionName=alice session=abc123 next_token=abc', 'sessionName=alice session=**** next_token=****'],
  ];
  it.each(cases)('%s', (input, expected) => {
    expect(m.maskString(input)).toBe(expected);
  });

  it('short strings: still masked when they hold a credential', () => {
    expect(m.maskString('Bearer abc123xyz9')).toBe('Bearer ****');
    expect(m.maskString('token=abc')).toBe('token=****');
    expect(m.maskString('eyJhbGc.eyJzdWI.x')).toBe('****');
    expect(m.maskString('plain short')).toBe('plain short');
    registerSecret('tiny-secret');
    expect(createMasker().maskString('a tiny-secret b')).toBe('a **** b');
  });

  it('leaves ordinary text alone (and returns the very same string)', () => {
    for (const s of [
      'Basic configuration loaded',
      'Bearer authentication failed',
      'Invalid token: expired',
      'tokenizer=fast maxTokens=5',
      'https://example.com/path:8080 fine',
      'password=',
      '"password":""',
      'I0613 10:42:07.123456 11 controller.go:611] quota admission added evaluator for: leases',
      'user@example.com wrote',
    ]) {
      expect(m.maskString(s)).toBe(s);
    }
  });
});

describe('mask: fields', () => {
  it('masks sensitive keys at any depth, case and separators ignored; keeps non-secrets', () => {
    const r = rec('x', {
      Password: 'a',
      db: { connection: { DB_PASSWORD: 'b', host: 'h' } },
      headers: [{ 'X-Api-Key': 'k' }, { Cookie: 'c=1' }],
      aws: { SecretAccessKey: 'x', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', sessionToken: 'tok' },
      credentials: { user: 'u', pass: 'p' },
      user: { extra: { sessionName: ['alice'] } },
      tokens_used: 17,
      retry: true,
      nested: { note: 'login with password=hunter2 failed' },
    });
    createMaskTransform().apply(r);
    expect(r.fields).toEqual({
      Password: '****',
      db: { connection: { DB_PASSWORD: '****', host: 'h' } },
      headers: [{ 'X-Api-Key': '****' }, { Cookie: '****' }],
      aws: { SecretAccessKey: '****', accessKeyId: '****', sessionToken: '****' },
      credentials: '****',
      user: { extra: { sessionName: ['alice'] } },
      tokens_used: 17,
      retry: true,
      nested: { note: 'login with password=**** failed' },
    });
  });

  it('masks the message too (documented exception) unless message: false', () => {
    const r = rec('token=abcdef');
    createMaskTransform().apply(r);
    expect(r.message).toBe('token=****');
    const r2 = rec('token=abcdef');
    createMaskTransform({ type: 'mask', message: false }).apply(r2);
    expect(r2.message).toBe('token=abcdef');
  });

  it('allocates nothing when nothing matches: same message string, same nested objects', () => {
    const http = { status: 200, path: '/health' };
    const tags = ['a', 'b'];
    const r = rec('GET /health 200', { http, tags, level: 'info' });
    const before = r.message;
    createMaskTransform().apply(r);
    expect(r.message).toBe(before);
    expect(r.fields.http).toBe(http);
    expect(r.fields.tags).toBe(tags);
    expect(r.fields).toEqual({ http: { status: 200, path: '/health' }, tags: ['a', 'b'], level: 'info' });
  });
});

describe('mask: configuration', () => {
  it('replacement, keys add/remove, email, extra patterns, literal secrets', () => {
    const m = createMasker({
      type: 'mask',
      replacement: '[redacted]',
      keys: { add: ['pin', 'ssn'], remove: ['session'] },
      patterns: { email: true },
      extraPatterns: ['\\b\\d{4}-\\d{4}-\\d{4}-\\d{4}\\b'],
      secrets: ['hunter2-literal'],
    });
    expect(m.isSensitiveKey('user_pin')).toBe(true);
    expect(m.isSensitiveKey('session')).toBe(false);
    expect(m.isSensitiveKey('password')).toBe(true);
    expect(m.maskString('pin=1234 session=abc')).toBe('pin=[redacted] session=abc');
    expect(m.maskString('mail bob@example.com now')).toBe('mail [redacted] now');
    expect(m.maskString('card 4111-1111-1111-1111 ok')).toBe('card [redacted] ok');
    expect(m.maskString('the value hunter2-literal leaked')).toBe('the value [redacted] leaked');
  });

  it('patterns can be turned off one by one', () => {
    const m = createMasker({ type: 'mask', patterns: { awsAccessKeyId: false, keyValue: false } });
    expect(m.maskString('AKIAIOSFODNN7EXAMPLE password=x1')).toBe('AKIAIOSFODNN7EXAMPLE password=x1');
  });

  it('runtime-registered secrets are masked by existing transforms', async () => {
    const t = createMaskTransform();
    const r1 = rec('sending with s3cr3t-token-value');
    t.apply(r1);
    expect(r1.message).toBe('sending with s3cr3t-token-value');
    registerSecret('s3cr3t-token-value');
    registerSecret('abc'); // too short: ignored
    const r2 = rec('sending with s3cr3t-token-value', { deep: ['s3cr3t-token-value!'] });
    t.apply(r2);
    expect(r2.message).toBe('sending with ****');
    expect(r2.fields.deep).toEqual(['****!']);
    expect(createMasker().maskString('abc abc')).toBe('abc abc');
  });

  it('withSecretRegistration registers what the resolver returns; secretRefs are resolved', async () => {
    const ctx = withSecretRegistration({ resolveSecret: async (ref) => `resolved-${ref}-value` });
    await ctx.resolveSecret!('ssm:/x');
    expect(createMasker().maskString('k resolved-ssm:/x-value k')).toBe('k **** k');
    const t = await buildMaskTransform(maskOptionsSchema.parse({ type: 'mask', secretRefs: ['env:TOKEN'] }), {
      resolveSecret: async () => 'env-token-123456',
    });
    const r = rec('auth env-token-123456');
    t.apply(r);
    expect(r.message).toBe('auth ****');
    await expect(
      buildMaskTransform(maskOptionsSchema.parse({ type: 'mask', secretRefs: ['env:X'] }), {}),
    ).rejects.toThrow(/secret resolver/);
  });

  it('schema is strict and validates patterns and secret length', () => {
    expect(maskOptionsSchema.safeParse({ type: 'mask' }).success).toBe(true);
    expect(maskOptionsSchema.safeParse({ type: 'mask', bogus: 1 }).success).toBe(false);
    expect(maskOptionsSchema.safeParse({ type: 'mask', patterns: { nope: true } }).success).toBe(false);
    expect(maskOptionsSchema.safeParse({ type: 'mask', extraPatterns: ['(unclosed'] }).success).toBe(false);
    expect(maskOptionsSchema.safeParse({ type: 'mask', secrets: ['abc'] }).success).toBe(false);
    const d = maskOptionsSchema.parse({ type: 'mask' });
    expect(d.replacement).toBe('****');
    expect(d.patterns.email).toBe(false);
    expect(d.patterns.jwt).toBe(true);
  });

  it('is registered as the "mask" transform', async () => {
    const spec = transforms.find((t) => t.type === 'mask')!;
    const t = await spec.create(spec.schema.parse({ type: 'mask' }), {});
    const r = rec('password=x123');
    t.apply(r);
    expect(r.message).toBe('password=****');
  });
});

describe('mask: pathological input', () => {
  it('finishes linearly on long runs that almost match (no catastrophic backtracking)', () => {
    const m = createMasker({ type: 'mask', patterns: { email: true } });
    const n = 200_000;
    const inputs = [
      'x'.repeat(n),
      'a.'.repeat(n / 2),
      `password="${'x'.repeat(n)}`,
      `Bearer ${'a'.repeat(n)}`,
      '-----BEGIN PRIVATE KEY-----'.repeat(n / 27),
      'https://'.repeat(n / 8),
      `${'eyJabcd.'.repeat(n / 8)}`,
      `${'a'.repeat(n)}@${'b.'.repeat(n / 4)}`,
      'password:'.repeat(n / 9),
    ];
    for (const s of inputs) {
      const out = m.maskString(s);
      expect(typeof out).toBe('string');
    }
    // A truncated line: the unterminated quoted value is masked to the end of the line.
    expect(m.maskString(`password="${'x'.repeat(10)}`)).toBe('password="****');
    expect(m.maskString('a password="hunter2\nnext line')).toBe('a password="****\nnext line');
  });
});

describe('mask: the pre-filter (fast path) never hides a match from the combined pattern', () => {
  /** Deterministic, so a failure reproduces. */
  const rand = mulberry32;
  const configs: MaskOptions[] = [
    { type: 'mask' },
    { type: 'mask', patterns: { email: true }, secrets: ['literal-secret-1'] },
    { type: 'mask', keys: { add: ['pin', 'x_k', 'a_', 'wéird-key', 'ssn'], remove: ['session', 'token'] } },
    { type: 'mask', patterns: { keyValue: false } },
    { type: 'mask', patterns: { keyValue: false, awsSecretKey: false, urlCredentials: false } },
    { type: 'mask', patterns: { keyValue: false, apiKeyHeader: false } },
    {
      type: 'mask',
      patterns: { keyValue: false, highEntropy: false, github: false },
      keys: { remove: ['token'] },
    },
  ];
  const keyish = [
    'password',
    'PassWord',
    'db_password',
    'passwd',
    'passphrase',
    'secret',
    'client-secret',
    'clientSecret',
    'client.secret',
    'TOKEN',
    'next_token',
    'authorization',
    'Authorization',
    'api_key',
    'X-Api-Key',
    'apikey',
    'access.key',
    'secret_access_key',
    'aws_secret_access_key',
    'AWS-Secret-Access-Key',
    'privateKey',
    'cookie',
    'Set-Cookie',
    'session',
    'sessionId',
    'session_id',
    'SESSION.ID',
    'credentials',
    'pin',
    'a',
    'x_k',
    'wéird-key',
    'WÉIRD_KEY',
    'ssn',
    'kind',
    'auditID',
    'uid',
    'key',
    'tokens',
    'sessionName',
    'id',
    'tokenSecret',
    'tokenValue',
    'secret_hash',
    'x-api-key',
    'X-Auth-Token',
    'legacy-token-last-used',
    'authentication.k8s.io/legacy-token',
    'my.Secret-x',
  ];
  const seps = [
    '=',
    ':',
    ' = ',
    '=>',
    ' => ',
    '"=',
    '":',
    '" : ',
    "':",
    "' = ",
    '\\":',
    '\\"=',
    ': "',
    ': \\"',
    ':\t',
    '\u00a0=',
    '\u2028:',
    '\ufeff=',
    ' :',
    ':/',
    ': ',
    '"',
    "'",
    '\\',
  ];
  const values = [
    'hunter2',
    '"quoted value"',
    '\\"esc\\"',
    "'single'",
    'Bearer abc.def-123',
    'null',
    'true',
    '',
    'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    '"unterminated',
    'a&b',
    '12345',
    'Zm9vYmFyMTIzNDU2Nzg5MGFi',
    '"9f86d081884c7d659a2feaa0c55ad015"',
    'kube-system/bootstrap-token-07401b',
    '1234567890123456',
  ];
  const other = [
    ' ',
    '\n',
    '{',
    '}',
    ',',
    'Bearer abcdefgh1',
    'Basic dXNlcjpwYXNz',
    'eyJhbGciOi.eyJzdWIiOi.sig',
    'AKIAIOSFODNN7EXAMPLE',
    'ASIAY34FZKBOKMUTVV7A',
    'postgres://admin:s3cr3t@db',
    'https://host/path',
    '-----BEGIN RSA PRIVATE KEY-----\nMIIE',
    'bob@example.com',
    'literal-secret-1',
    'ſecret',
    'İ',
    'é',
    'authorization.k8s.io/decision',
    '2026-11-22T10:00:00Z',
    'system:masters',
    'x',
    'ghp_aBcD1234eFgH5678iJkL9012mNoP3456qRsT',
    'gho_aBcD1234eFgH5678iJkL9012mNoP3456qRs',
    `github_pat_11ABCDEFG0123456789abc_${'Zz9'.repeat(20)}`,
    'xoxb-1234567890-abcdefghij',
    'xox',
    'sk_live_4eC39HqLyjWDarjtT1zdp7dc',
    'rk_test_',
    'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLSTC',
    'AIzaSyD-1234567890abcdefghijklmnopqrstu',
    '_',
    'x-api-key: k1',
    'X-Auth-Token:\tabc',
  ];

  /** A config's options parsed, and its sensitive keys as the masker computes them. */
  const parsed = (options: MaskOptions) => {
    const cfg = maskOptionsSchema.parse(options);
    const removed = new Set(cfg.keys.remove.map((k) => k.toLowerCase().replace(/[^a-z0-9]/g, '')));
    const keys = [
      ...DEFAULT_SENSITIVE_KEYS.filter((k) => !removed.has(k.toLowerCase().replace(/[^a-z0-9]/g, ''))),
      ...cfg.keys.add,
    ];
    return { cfg, keys };
  };

  it.each(configs.map((c, i) => [i, c] as const))('config %i: random strings', (_i, options) => {
    const { cfg, keys } = parsed(options);
    const pats = buildPatterns(cfg, keys, cfg.secrets);
    const mayMatch = buildPrefilter(cfg, keys, cfg.secrets);
    const r = rand(7 + _i);
    const pick = (a: readonly string[]) => a[Math.floor(r() * a.length)];
    let matched = 0;
    let filtered = 0;
    for (let n = 0; n < 20_000; n++) {
      let s = '';
      const parts = 1 + Math.floor(r() * 6);
      for (let p = 0; p < parts; p++) {
        const kind = r();
        if (kind < 0.5) s += pick(keyish) + pick(seps) + pick(values);
        else s += pick(other);
      }
      const hit = pats.test?.test(s) ?? false;
      const may = mayMatch(s);
      if (hit && !may) throw new Error(`pre-filter missed a match: ${JSON.stringify(s)}`);
      // What the masker's verbatim-value shortcut rests on: a string the pre-filter rules out has no
      // part it lets through, nor any part the combined pattern matches.
      if (!may && s.length > 0) {
        for (let k = 0; k < 4; k++) {
          const a = Math.floor(r() * s.length);
          const sub = s.slice(a, a + 1 + Math.floor(r() * (s.length - a)));
          if (mayMatch(sub) || (pats.test?.test(sub) ?? false))
            throw new Error(`part ${JSON.stringify(sub)} of ruled-out ${JSON.stringify(s)} may match`);
        }
      }
      if (hit) matched++;
      if (!may) filtered++;
    }
    // Both paths are exercised: some strings match, some are ruled out without the regex.
    if (pats.test) expect(matched).toBeGreaterThan(100);
    expect(filtered).toBeGreaterThan(100);
  });

  it.each(configs.map((c, i) => [i, c] as const))(
    'config %i: joined messages (packed records) are ruled out only when no message can match, and masked as each alone',
    (_i, options) => {
      const { cfg, keys } = parsed(options);
      const pats = buildPatterns(cfg, keys, cfg.secrets);
      const joinedMay = buildPrefilter(cfg, keys, cfg.secrets, 'joined');
      const m = createMasker(options);
      const r = rand(1000 + _i);
      const pick = (a: readonly string[]) => a[Math.floor(r() * a.length)];
      let ruledOut = 0;
      let masked = 0;
      for (let n = 0; n < 3_000; n++) {
        const msgs: string[] = [];
        const count = 1 + Math.floor(r() * 5);
        for (let k = 0; k < count; k++) {
          let s = '';
          const parts = Math.floor(r() * 5);
          for (let p = 0; p < parts; p++) {
            const kind = r();
            if (kind < 0.4) s += pick(keyish) + pick(seps) + pick(values);
            else if (kind < 0.5)
              s += pick(keyish); // a key at a message's end, its separator in the next
            else if (kind < 0.6) s += pick(seps) + pick(values);
            else s += pick(other);
          }
          msgs.push(s);
        }
        const text = `${msgs.join('\n')}\n`;
        const ends = new Int32Array(count);
        for (let k = 0, at = 0; k < count; k++) {
          at += msgs[k].length;
          ends[k] = at++;
        }
        if (!joinedMay(text)) {
          ruledOut++;
          for (const s of msgs)
            if (pats.test?.test(s))
              throw new Error(`joined pre-filter ruled out a match: ${JSON.stringify(s)}`);
        }
        const want = msgs.map((s) => m.maskString(s));
        const got = m.maskJoined(text, ends);
        if (want.every((w, k) => w === msgs[k])) expect(got).toBeUndefined();
        else {
          masked++;
          expect(got?.text).toBe(`${want.join('\n')}\n`);
          const wantEnds = new Int32Array(count);
          for (let k = 0, at = 0; k < count; k++) {
            at += want[k].length;
            wantEnds[k] = at++;
          }
          expect(got?.ends).toEqual(wantEnds);
        }
      }
      expect(ruledOut).toBeGreaterThan(50);
      if (pats.test) expect(masked).toBeGreaterThan(50);
    },
  );

  it('rules out ordinary log lines without the regex, and still masks tricky near-misses', () => {
    const cfg = maskOptionsSchema.parse({ type: 'mask' });
    const mayMatch = buildPrefilter(cfg, DEFAULT_SENSITIVE_KEYS, []);
    for (const s of [
      '{"kind":"Event","auditID":"a1","user":{"username":"system:node:x","groups":["system:masters"]},"annotations":{"authorization.k8s.io/decision":"allow"}}',
      'I0613 10:42:07.123456 11 controller.go:611] "Finished syncing" kind="ReplicaSet" key="default/x" duration="1ms"',
      'time="2026-11-22T10:00:00Z" level=info msg="access granted" method=POST path=/authenticate',
      'tokenizer=fast maxTokens=5 sessionName=alice',
    ]) {
      expect(mayMatch(s)).toBe(false);
    }
    const m = createMasker();
    const cases: [string, string][] = [
      ['x password\u00a0= hunter2', 'x password\u00a0= ****'],
      ['{"PASSWORD" :\t"hunter2"}', '{"PASSWORD" :\t"****"}'],
      ['{\\"Session.Id\\":\\"abc\\"}', '{\\"Session.Id\\":\\"****\\"}'],
      ['a SECRET-ACCESS-KEY:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'a SECRET-ACCESS-KEY:****'],
      ['password=x', 'password=****'],
      ['=password=x', '=password=****'],
      ['my-api.key => k1', 'my-api.key => ****'],
      ['ſecret=x ſession=y', 'ſecret=x ſession=y'],
    ];
    for (const [input, expected] of cases) expect(m.maskString(input)).toBe(expected);
  });
});

describe('mask: parsed values found verbatim in a clean message skip the pre-filter', () => {
  const rec = (message: string, fields: Record<string, unknown>): LogRecord => ({
    timestamp: 0,
    message,
    fields,
    meta: { owner: '1', logGroup: 'g', logStream: 's', id: '1', source: 't', ackId: 'a' },
  });
  it('still masks values that are not in the message as they are (escaped, reordered, added)', () => {
    const m = createMasker();
    // JSON escapes: the parsed value reads `password=hunter2`, the message does not.
    const escaped = '{"note":"pass\\u0077ord=hunter2","a":"x"}';
    const r1 = rec(escaped, JSON.parse(escaped));
    expect(r1.fields.note).toBe('password=hunter2');
    m.maskRecord(r1);
    expect(r1.fields.note).toBe('password=****');
    expect(r1.message).toBe(escaped);
    // A value found earlier in the text than the last one matched, and values another stage added.
    const r2 = rec('{"b":"plain text here","a":"more text"}', {
      a: 'more text',
      b: 'plain text here',
      extra: 'Bearer abcdefgh1234',
      nested: { list: ['token=abc', 'plain text here'] },
    });
    m.maskRecord(r2);
    expect(r2.fields).toEqual({
      a: 'more text',
      b: 'plain text here',
      extra: 'Bearer ****',
      nested: { list: ['token=****', 'plain text here'] },
    });
    // Key-based masking does not depend on the message.
    const r3 = rec('{"password":"hunter2hunter2"}', {
      password: 'hunter2hunter2',
      tokenValue: 'a1B2c3D4e5F6g7H8',
    });
    m.maskRecord(r3);
    expect(r3.message).toBe('{"password":"****"}');
    expect(r3.fields).toEqual({ password: '****', tokenValue: '****' });
  });
  it('answers as masking each string alone would, over records parsed from random clean and unclean lines', () => {
    const m = createMasker();
    const r = mulberry32(5);
    const words = [
      'alpha',
      'token',
      'pass',
      'word',
      '=',
      ':',
      ' ',
      'Bearer ',
      'abc123XYZ789def0',
      '"',
      '\\',
      '_',
      'ghp',
      'AKIA',
      'x',
    ];
    for (let n = 0; n < 3000; n++) {
      const vals: string[] = [];
      for (let k = 0; k < 1 + Math.floor(r() * 4); k++) {
        let v = '';
        for (let w = 0; w < 1 + Math.floor(r() * 6); w++) v += words[Math.floor(r() * words.length)];
        vals.push(v);
      }
      const obj: Record<string, unknown> = {};
      vals.forEach((v, i) => {
        obj[`k${i}`] = v;
      });
      const message = JSON.stringify(obj);
      const fields = JSON.parse(message) as Record<string, unknown>;
      const record = rec(message, fields);
      m.maskRecord(record);
      expect(record.message).toBe(m.maskString(message));
      vals.forEach((v, i) => {
        expect(record.fields[`k${i}`]).toBe(m.maskString(v));
      });
    }
  });
});

describe('mask: more secret shapes (issue 8)', () => {
  const m = createMasker();
  const GHP = 'ghp_aBcD1234eFgH5678iJkL9012mNoP3456qRsT';
  const PAT = `github_pat_11ABCDEFG0123456789abc_${'Zz9'.repeat(20)}`;
  const cases: [string, string][] = [
    [
      `git clone https://x-access-token:${GHP}@github.com/o/r`,
      'git clone https://x-access-token:****@github.com/o/r',
    ],
    [`GITHUB_TOKEN ${GHP} set`, 'GITHUB_TOKEN **** set'],
    [
      `using ${GHP.replace('ghp_', 'gho_')}, ${GHP.replace('ghp_', 'ghu_')}; ${GHP.replace('ghp_', 'ghs_')} ${GHP.replace('ghp_', 'ghr_')}`,
      'using ****, ****; **** ****',
    ],
    [`pat=${PAT}`, 'pat=****'],
    [`{"pat":"${PAT}"}`, '{"pat":"****"}'],
    ['slack xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx ok', 'slack **** ok'],
    ['hook xoxp-1234567890-abcdefghij and xoxa-2-abcdefghij1 xoxr-abcdefghij1', 'hook **** and **** ****'],
    ['stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc charged', 'stripe **** charged'],
    ['rk_test_4eC39HqLyjWDarjtT1zdp7dc whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLSTC', '**** ****'],
    ['maps key AIzaSyD-1234567890abcdefghijklmnopqrstu in url', 'maps key **** in url'],
    ['GET /maps/api?key=AIzaSyD-1234567890abcdefghijklmnopqrstu&q=x', 'GET /maps/api?key=****&q=x'],
    ['x-api-key: 0123456789abcdef', 'x-api-key: ****'],
    ['X-Api-Key: k-123, X-Auth-Token: abc.def\nnext', 'X-Api-Key: ****, X-Auth-Token: ****\nnext'],
    ['Private-Token: glpat-abc123', 'Private-Token: ****'],
    ['x-amz-security-token: IQoJb3JpZ2luX2VjEJr', 'x-amz-security-token: ****'],
    ['GET /v1/items?apikey=abc123&x=1', 'GET /v1/items?apikey=****&x=1'],
    ['GET /v1/items?api_key=abc123&api-key=def', 'GET /v1/items?api_key=****&api-key=****'],
    ['tokenValue=Zm9vYmFyMTIzNDU2Nzg5MGFi next', 'tokenValue=**** next'],
    ['secret_hash: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', 'secret_hash: ****'],
    ['{"refreshTokenId":"b1946ac92492d2347c6235b4d2611184"}', '{"refreshTokenId":"****"}'],
  ];
  it.each(cases)('%s', (input, expected) => {
    expect(m.maskString(input)).toBe(expected);
  });

  it('leaves names, counts and words next to secret/token keys alone', () => {
    for (const s of [
      'tokenizer=wordpiece-uncased-large-v2',
      'token_count=1234567890123456 tokens_used=99',
      'secretName=my-app-credentials-v2',
      'tokenExpirationSeconds=3607',
      'the ghp_short token and sk_live_x are not tokens',
      'xoxb-short',
      'AIza too short',
      'a github_pat_ mention',
      'nextPageToken-ish: Page-Two-Of-Many-Results',
      'x-api-key-header-missing',
    ]) {
      expect(m.maskString(s)).toBe(s);
    }
  });

  it('false positives on EKS audit and klog lines: annotation keys with token, tokenSecret names', () => {
    const audit = JSON.stringify({
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Metadata',
      auditID: '4b6c1f2e-1a2b-4c3d-9e8f-0123456789ab',
      stage: 'ResponseComplete',
      requestURI: '/api/v1/namespaces/kube-system/secrets/default-token-x7k2p',
      verb: 'get',
      user: {
        username: 'system:serviceaccount:kube-system:token-cleaner',
        groups: ['system:serviceaccounts'],
      },
      objectRef: {
        resource: 'secrets',
        namespace: 'kube-system',
        name: 'default-token-x7k2p',
        apiVersion: 'v1',
      },
      responseStatus: { metadata: {}, code: 200 },
      annotations: {
        'authorization.k8s.io/decision': 'allow',
        'authentication.k8s.io/legacy-token': 'kube-system/default-token-x7k2p',
        'authentication.k8s.io/legacy-token-last-used': '2024-03-05',
        'authentication.k8s.io/legacy-token-invalidated-since': '2024-01-01',
      },
    });
    expect(m.maskString(audit)).toBe(audit);
    const fields = JSON.parse(audit) as Record<string, unknown>;
    const r: LogRecord = {
      timestamp: 0,
      message: audit,
      fields,
      meta: {
        owner: '1',
        logGroup: '/aws/eks/c/cluster',
        logStream: 'kube-apiserver-audit-1',
        id: '1',
        source: 't',
        ackId: 'a',
      },
    };
    m.maskRecord(r);
    expect(r.fields).toEqual(JSON.parse(audit));
    expect(r.message).toBe(audit);

    const klog = [
      'I0305 10:11:12.123456      10 bootstrapsigner.go:152] "Signing configmap" configMap="kube-public/cluster-info" tokenSecret="kube-system/bootstrap-token-07401b"',
      'I0305 10:11:12.123456      10 tokencleaner.go:194] "Deleting expired secret" tokenSecret="bootstrap-token-abcdef"',
      'I0305 10:11:12.123456      10 controller.go:611] "Synced" caSecret="kube-system/ca-bundle" tlsSecret="ingress/web-tls"',
      'time="2024-03-05T10:11:12Z" level=info msg="access granted" arn="arn:aws:iam::123456789012:role/admin" client="127.0.0.1:38706" method=POST path=/authenticate uid="aws-iam-authenticator:123456789012:AROAEXAMPLEID" username="admin"',
    ];
    for (const line of klog) expect(m.maskString(line)).toBe(line);
    const kf: Record<string, unknown> = {
      tokenSecret: 'kube-system/bootstrap-token-07401b',
      caSecret: 'ns/ca',
    };
    m.maskRecord({ ...r, fields: kf, message: '' });
    expect(kf).toEqual({ tokenSecret: 'kube-system/bootstrap-token-07401b', caSecret: 'ns/ca' });
  });

  it('a reference key still masks what is not a Kubernetes name', () => {
    expect(m.maskString('tokenSecret="hunter2hunter2"')).toBe('tokenSecret="****"');
    expect(m.maskString('tokenSecret=Zm9vYmFyMTIzNDU2Nzg5MGFi')).toBe('tokenSecret=****');
    expect(m.maskString('clientSecret="my-client-name"')).toBe('clientSecret="****"');
    const f: Record<string, unknown> = {
      tokenSecret: 'Not A Name',
      'refresh.tokenValue': 'b1946ac92492d2347c6235b4d2611184',
      tokenKind: 'bootstrap',
    };
    m.maskRecord({
      timestamp: 0,
      message: '',
      fields: f,
      meta: { owner: '', logGroup: '', logStream: '', id: '', source: '', ackId: '' },
    });
    expect(f).toEqual({ tokenSecret: '****', 'refresh.tokenValue': '****', tokenKind: 'bootstrap' });
  });

  it('each new pattern can be turned off', () => {
    const off = createMasker({
      type: 'mask',
      patterns: {
        github: false,
        slack: false,
        stripe: false,
        googleApiKey: false,
        apiKeyHeader: false,
        highEntropy: false,
      },
    });
    for (const s of [
      'ghp_aBcD1234eFgH5678iJkL9012mNoP3456qRsT',
      'xoxb-1234567890-abcdefghij',
      'sk_live_4eC39HqLyjWDarjtT1zdp7dc',
      'AIzaSyD-1234567890abcdefghijklmnopqrstu',
      'x-api-key: 0123456789abcdef',
      'tokenValue=Zm9vYmFyMTIzNDU2Nzg5MGFi',
    ]) {
      expect(off.maskString(s)).toBe(s);
    }
  });

  it('looksRandom and isObjectReference', () => {
    expect(looksRandom('Zm9vYmFyMTIzNDU2Nzg5MGFi')).toBe(true);
    expect(looksRandom('9f86d081884c7d659a2feaa0c55ad015')).toBe(true);
    expect(looksRandom('aaaaaaaaaaaaaaaa1')).toBe(false);
    expect(looksRandom('bootstrap-token-07401b')).toBe(false);
    expect(looksRandom('2024-03-05T10:11:12Z')).toBe(false);
    expect(looksRandom('short1')).toBe(false);
    expect(isObjectReference('kube-system/bootstrap-token-07401b')).toBe(true);
    expect(isObjectReference('kube-system:default')).toBe(true);
    expect(isObjectReference('hunter2')).toBe(false);
    expect(isObjectReference('Has-Upper')).toBe(false);
  });
});
