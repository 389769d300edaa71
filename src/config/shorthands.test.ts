import { afterEach, describe, expect, it } from 'vitest';
import { clearSecretsForTests, registeredSecrets } from '../core/secrets-registry.js';
import { loadConfigFromEnv } from './env.js';
import { applyShorthands, awsOpenSearchHost, redactUrl } from './shorthands.js';

afterEach(() => clearSecretsForTests());

describe('applyShorthands', () => {
  it('leaves the document alone when no shorthand is set', () => {
    const doc = { parse: 'none' };
    expect(applyShorthands(doc, {})).toEqual({ parse: 'none' });
  });

  it('turns LOGFERRY_OPENSEARCH_URL alone into one opensearch sink with the defaults', () => {
    const out = applyShorthands({}, { LOGFERRY_OPENSEARCH_URL: 'http://127.0.0.1:9200' });
    expect(out).toEqual({ sinks: [{ type: 'opensearch', url: 'http://127.0.0.1:9200' }] });
  });

  it('moves URL credentials into auth, registers a literal password and keeps secret references as references', () => {
    const out = applyShorthands(
      {},
      { LOGFERRY_OPENSEARCH_URL: 'https://ferry:p%40ss-w0rd-123@search.example.com:9200/' },
    );
    expect(out.sinks).toEqual([
      {
        type: 'opensearch',
        url: 'https://search.example.com:9200',
        auth: { type: 'basic', username: 'ferry', password: 'p@ss-w0rd-123' },
      },
    ]);
    expect(registeredSecrets()).toContain('p@ss-w0rd-123');

    const ref = applyShorthands(
      {},
      {
        LOGFERRY_OPENSEARCH_URL: `https://ferry:${encodeURIComponent('ssm:/os/password')}@search.example.com`,
      },
    );
    expect((ref.sinks as Record<string, unknown>[])[0].auth).toEqual({
      type: 'basic',
      username: 'ferry',
      password: 'ssm:/os/password',
    });
    expect(registeredSecrets()).not.toContain('ssm:/os/password');

    const envCreds = applyShorthands(
      {},
      {
        LOGFERRY_OPENSEARCH_URL: 'https://search.example.com',
        LOGFERRY_OPENSEARCH_USERNAME: 'env:OS_USER',
        LOGFERRY_OPENSEARCH_PASSWORD: 'secretsmanager:prod/os#password',
      },
    );
    expect((envCreds.sinks as Record<string, unknown>[])[0].auth).toEqual({
      type: 'basic',
      username: 'env:OS_USER',
      password: 'secretsmanager:prod/os#password',
    });
  });

  it('detects Amazon OpenSearch Service and Serverless endpoints for SigV4', () => {
    const es = applyShorthands(
      {},
      { LOGFERRY_OPENSEARCH_URL: 'https://search-logs-abc123.eu-west-1.es.amazonaws.com' },
    );
    expect((es.sinks as Record<string, unknown>[])[0].auth).toEqual({
      type: 'sigv4',
      service: 'es',
      region: 'eu-west-1',
    });
    const aoss = applyShorthands(
      {},
      { LOGFERRY_OPENSEARCH_URL: 'https://0123abcd.us-east-1.aoss.amazonaws.com' },
    );
    expect((aoss.sinks as Record<string, unknown>[])[0].auth).toEqual({
      type: 'sigv4',
      service: 'aoss',
      region: 'us-east-1',
    });
    const forced = applyShorthands(
      {},
      {
        LOGFERRY_OPENSEARCH_URL: 'https://os.internal:443',
        LOGFERRY_OPENSEARCH_AUTH: 'sigv4',
        LOGFERRY_OPENSEARCH_REGION: 'ap-south-1',
      },
    );
    expect((forced.sinks as Record<string, unknown>[])[0].auth).toEqual({
      type: 'sigv4',
      service: 'es',
      region: 'ap-south-1',
    });
    expect(awsOpenSearchHost('vpc-x-y.us-gov-west-1.es.amazonaws.com')).toEqual({
      service: 'es',
      region: 'us-gov-west-1',
    });
    expect(awsOpenSearchHost('opensearch.example.com')).toBeUndefined();
  });

  it('applies LOGFERRY_INDEX, LOGFERRY_S3_URL, LOGFERRY_DLQ, LOGFERRY_MASK and LOGFERRY_PARSE', () => {
    const out = applyShorthands(
      {},
      {
        LOGFERRY_OPENSEARCH_URL: 'http://localhost:9200',
        LOGFERRY_INDEX: 'logs-{component}-YYYY.MM.dd',
        LOGFERRY_S3_URL: 's3://archive/cw',
        LOGFERRY_DLQ: 'https://sqs.eu-west-1.amazonaws.com/123456789012/logferry-dlq',
        LOGFERRY_DLQ_OVERFLOW_S3_URL: 's3://archive/dlq',
        LOGFERRY_MASK: 'false',
        LOGFERRY_PARSE: 'none',
      },
    );
    expect(out).toEqual({
      sinks: [
        { type: 'opensearch', url: 'http://localhost:9200', index: 'logs-{component}-YYYY.MM.dd' },
        { type: 's3', url: 's3://archive/cw' },
      ],
      deadLetter: {
        type: 'sqs',
        queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/logferry-dlq',
        overflowS3Url: 's3://archive/dlq',
      },
      mask: false,
      parse: 'none',
    });
    expect(applyShorthands({}, { LOGFERRY_DLQ: 'file:///var/lib/logferry/dlq' }).deadLetter).toEqual({
      type: 'file',
      path: '/var/lib/logferry/dlq',
    });
    expect(applyShorthands({}, { LOGFERRY_DLQ: './dlq' }).deadLetter).toEqual({
      type: 'file',
      path: './dlq',
    });
    expect(applyShorthands({}, { LOGFERRY_MASK: 'true' }).mask).toBeUndefined();
  });

  it('lets explicit config win section by section; LOGFERRY_INDEX fills only an unset index', () => {
    const doc = {
      sinks: [
        { type: 'opensearch', url: 'http://a:9200' },
        { type: 'opensearch', url: 'http://b:9200', index: 'fixed' },
      ],
      deadLetter: { type: 'file', path: '/x' },
      mask: { replacement: '[redacted]' },
      parse: 'auto',
    };
    const out = applyShorthands(doc, {
      LOGFERRY_OPENSEARCH_URL: 'http://ignored:9200',
      LOGFERRY_INDEX: 'from-env',
      LOGFERRY_DLQ: 'file:///ignored',
      LOGFERRY_MASK: 'false',
      LOGFERRY_PARSE: 'none',
    });
    expect(out).toEqual({
      ...doc,
      sinks: [
        { type: 'opensearch', url: 'http://a:9200', index: 'from-env' },
        { type: 'opensearch', url: 'http://b:9200', index: 'fixed' },
      ],
    });
    expect(doc.sinks[0]).toEqual({ type: 'opensearch', url: 'http://a:9200' });
  });

  it('refuses bad values without echoing a password', () => {
    expect(() => applyShorthands({}, { LOGFERRY_MASK: 'maybe' })).toThrow(/LOGFERRY_MASK/);
    expect(() => applyShorthands({}, { LOGFERRY_PARSE: 'json' })).toThrow(/LOGFERRY_PARSE/);
    expect(() => applyShorthands({}, { LOGFERRY_DLQ: 'ftp://x/y' })).toThrow(/LOGFERRY_DLQ/);
    expect(() =>
      applyShorthands({}, { LOGFERRY_OPENSEARCH_URL: 'http://h', LOGFERRY_OPENSEARCH_AUTH: 'kerberos' }),
    ).toThrow(/sigv4, basic or none/);
    expect(() =>
      applyShorthands({}, { LOGFERRY_OPENSEARCH_URL: 'http://h', LOGFERRY_OPENSEARCH_AUTH: 'basic' }),
    ).toThrow(/username and password/);
    // Scheme-less forms parse as URLs with an odd scheme (`admin:`, `search.example.com:`): refused
    // with what to write, and the value (maybe a password) is never echoed.
    for (const bad of [
      'not a url hunter2',
      'admin:hunter2@search.example.com',
      'search-hunter2.eu-west-1.es.amazonaws.com:443',
      'https://admin:hunter2@h:notaport',
    ]) {
      try {
        applyShorthands({}, { LOGFERRY_OPENSEARCH_URL: bad });
        expect.unreachable();
      } catch (e) {
        expect((e as Error).message).toMatch(/not an http\(s\) URL: write it like https:\/\//);
        expect((e as Error).message).not.toMatch(/hunter2/);
      }
    }
  });

  it('redacts URL passwords for logging', () => {
    expect(redactUrl('https://u:secret@h:9200/x')).toBe('https://u:****@h:9200/x');
    expect(redactUrl('https://h:9200')).toBe('https://h:9200/');
    expect(redactUrl('garbage //u:secret@h')).toBe('garbage //u:****@h');
  });
});

describe('loadConfigFromEnv with shorthands', () => {
  it('produces opensearch sinks the opensearch sink schema accepts', async () => {
    const basic = await loadConfigFromEnv({
      LOGFERRY_OPENSEARCH_URL: 'https://ferry:s3cret-pass@search.example.com:9200',
      LOGFERRY_INDEX: 'logs-{component}-YYYY.MM.dd',
    });
    expect(basic.sinks).toEqual([
      expect.objectContaining({
        type: 'opensearch',
        url: 'https://search.example.com:9200',
        auth: { type: 'basic', username: 'ferry', password: 's3cret-pass' },
        index: 'logs-{component}-YYYY.MM.dd',
      }),
    ]);
    const aws = await loadConfigFromEnv({
      LOGFERRY_OPENSEARCH_URL: 'https://search-logs-x1.eu-west-1.es.amazonaws.com',
    });
    expect(aws.sinks[0]).toMatchObject({
      auth: { type: 'sigv4', service: 'es', region: 'eu-west-1' },
      index: 'logs-YYYY.MM.dd',
    });
    expect(aws.parse).toBe('auto');
    expect(aws.mask).toBeUndefined();
  });

  it('validates the dead-letter and mask shorthands through the registries', async () => {
    const cfg = await loadConfigFromEnv({
      LOGFERRY_DLQ: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq',
      LOGFERRY_MASK: 'off',
    });
    expect(cfg.deadLetter).toMatchObject({
      type: 'sqs',
      queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq',
      maxMessageBytes: 262_144,
    });
    expect(cfg.mask).toBe(false);
    expect(cfg.parse).toBe('auto');
  });
});
