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
  ];

  it.each(configs.map((c, i) => [i, c] as const))('config %i: random strings', (_i, options) => {
    const cfg = maskOptionsSchema.parse(options);
    const removed = new Set(cfg.keys.remove.map((k) => k.toLowerCase().replace(/[^a-z0-9]/g, '')));
    const keys = [
      ...DEFAULT_SENSITIVE_KEYS.filter((k) => !removed.has(k.toLowerCase().replace(/[^a-z0-9]/g, ''))),
      ...cfg.keys.add,
    ];
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
      if (hit) matched++;
      if (!may) filtered++;
    }
    // Both paths are exercised: some strings match, some are ruled out without the regex.
    if (pats.test) expect(matched).toBeGreaterThan(100);
    expect(filtered).toBeGreaterThan(100);
  });

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
