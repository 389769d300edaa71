import { afterEach, describe, expect, it } from 'vitest';
import type { LogRecord } from '../core/record.js';
import { clearSecretsForTests, registeredSecrets } from '../core/secrets-registry.js';
import { createMaskTransform } from '../transforms/mask.js';
import { isSecretRef, parseSecretRef, SecretResolver, secretContext } from './secrets.js';

afterEach(() => clearSecretsForTests());

describe('parseSecretRef', () => {
  it.each([
    ['ssm:/logferry/token', { kind: 'ssm', name: '/logferry/token' }],
    ['ssm:plain-name', { kind: 'ssm', name: 'plain-name' }],
    ['secretsmanager:prod/os', { kind: 'secretsmanager', id: 'prod/os' }],
    ['secretsmanager:prod/os#password', { kind: 'secretsmanager', id: 'prod/os', jsonKey: 'password' }],
    [
      'secretsmanager:arn:aws:secretsmanager:us-east-1:123456789012:secret:os-AbCdEf#user',
      {
        kind: 'secretsmanager',
        id: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:os-AbCdEf',
        jsonKey: 'user',
      },
    ],
    ['env:OS_PASSWORD', { kind: 'env', name: 'OS_PASSWORD' }],
  ])('parses %s', (ref, want) => {
    expect(parseSecretRef(ref)).toEqual(want);
    expect(isSecretRef(ref)).toBe(true);
  });

  it.each(['hunter2-literal', 'ssm:', 'env:', 'env:1BAD', 'secretsmanager:', 'secretsmanager:x#'])(
    'refuses %s without echoing it',
    (ref) => {
      expect(() => parseSecretRef(ref)).toThrow(/not a secret reference/);
      try {
        parseSecretRef(ref);
      } catch (e) {
        expect((e as Error).message).not.toContain('hunter2');
      }
    },
  );
});

describe('SecretResolver (env references)', () => {
  it('caches for the TTL, re-reads after it, and refresh bypasses the cache', async () => {
    let now = 1_000;
    const env: NodeJS.ProcessEnv = { TOKEN: 'first-token-value' };
    const r = new SecretResolver({ env, ttlMs: 60_000, now: () => now });
    expect(await r.resolve('env:TOKEN')).toBe('first-token-value');
    env.TOKEN = 'second-token-value';
    expect(await r.resolve('env:TOKEN')).toBe('first-token-value');
    expect(r.fetches).toBe(1);
    now += 60_001;
    expect(await r.resolve('env:TOKEN')).toBe('second-token-value');
    env.TOKEN = 'third-token-value';
    expect(await r.refresh('env:TOKEN')).toBe('third-token-value');
    expect(r.fetches).toBe(3);
    expect(registeredSecrets()).toEqual(
      expect.arrayContaining(['first-token-value', 'second-token-value', 'third-token-value']),
    );
  });

  it('shares one look-up between concurrent callers', async () => {
    const r = new SecretResolver({ env: { K: 'concurrent-value' } });
    const vals = await Promise.all([r.resolve('env:K'), r.resolve('env:K'), r.resolve('env:K')]);
    expect(vals).toEqual(['concurrent-value', 'concurrent-value', 'concurrent-value']);
    expect(r.fetches).toBe(1);
  });

  it('fails clearly for a missing variable and serves a stale value only on TTL re-reads', async () => {
    let now = 0;
    const env: NodeJS.ProcessEnv = {};
    const r = new SecretResolver({ env, ttlMs: 10, now: () => now });
    await expect(r.resolve('env:MISSING')).rejects.toMatchObject({ code: 'SECRET_UNAVAILABLE' });
    env.MISSING = 'now-it-exists';
    expect(await r.resolve('env:MISSING')).toBe('now-it-exists');
    delete env.MISSING;
    now = 100;
    expect(await r.resolve('env:MISSING')).toBe('now-it-exists');
    await expect(r.refresh('env:MISSING')).rejects.toMatchObject({ code: 'SECRET_UNAVAILABLE' });
  });

  it('reads the TTL from LOGFERRY_SECRET_TTL_SECONDS and exposes BuildContext members', async () => {
    let now = 0;
    const env: NodeJS.ProcessEnv = { LOGFERRY_SECRET_TTL_SECONDS: '2', S: 'value-one' };
    const ctx = secretContext(new SecretResolver({ env, now: () => now }));
    expect(await ctx.resolveSecret('env:S')).toBe('value-one');
    env.S = 'value-two';
    now = 1_999;
    expect(await ctx.resolveSecret('env:S')).toBe('value-one');
    now = 2_001;
    expect(await ctx.resolveSecret('env:S')).toBe('value-two');
    env.S = 'value-three';
    expect(await ctx.refreshSecret('env:S')).toBe('value-three');
  });
});

describe('bridge to the mask transform', () => {
  it('masks a value as soon as a resolver resolves it', async () => {
    const mask = createMaskTransform();
    const r = new SecretResolver({ env: { TOK: 'bridge-secret-value-123' } });
    const rec = () => ({
      timestamp: 1,
      message: 'sent bridge-secret-value-123 upstream',
      fields: {},
      meta: {} as LogRecord['meta'],
    });
    expect((mask.apply(rec()) as LogRecord).message).toBe('sent bridge-secret-value-123 upstream');
    await r.resolve('env:TOK');
    expect((mask.apply(rec()) as LogRecord).message).toBe('sent **** upstream');
  });
});
