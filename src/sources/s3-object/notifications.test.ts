import { describe, expect, it } from 'vitest';
import { decodeS3Key, objectId, parseNotification } from './notifications.js';

const s3Event = (key: string, eventName = 'ObjectCreated:Put') => ({
  Records: [
    {
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'eu-west-1',
      eventTime: '2026-12-05T16:00:00.000Z',
      eventName,
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'all-created',
        bucket: { name: 'logs', arn: 'arn:aws:s3:::logs' },
        object: { key, size: 1234, eTag: '0123abcd', versionId: 'v1', sequencer: '00' },
      },
    },
  ],
});

describe('parseNotification', () => {
  it('reads a raw S3 event with a URL-encoded key', () => {
    const n = parseNotification(JSON.stringify(s3Event('a/odd+name%2Bplus%C3%A9.gz')));
    expect(n).toMatchObject({
      kind: 'objects',
      shape: 's3',
      objects: [
        { bucket: 'logs', key: 'a/odd name+plusé.gz', versionId: 'v1', etag: '0123abcd', size: 1234 },
      ],
    });
  });
  it('unwraps an SNS envelope', () => {
    const body = JSON.stringify({
      Type: 'Notification',
      MessageId: 'm',
      TopicArn: 'arn:aws:sns:x',
      Message: JSON.stringify(s3Event('k')),
    });
    expect(parseNotification(body)).toMatchObject({ kind: 'objects', shape: 'sns', objects: [{ key: 'k' }] });
  });
  it('reads EventBridge Object Created', () => {
    const body = JSON.stringify({
      source: 'aws.s3',
      'detail-type': 'Object Created',
      time: '2026-12-05T16:00:00Z',
      detail: { bucket: { name: 'logs' }, object: { key: 'x+y.gz', etag: 'e', 'version-id': 'v9', size: 3 } },
    });
    expect(parseNotification(body)).toMatchObject({
      kind: 'objects',
      shape: 'eventbridge',
      objects: [{ bucket: 'logs', key: 'x y.gz', etag: 'e', versionId: 'v9' }],
    });
  });
  it('recognises s3:TestEvent, raw and wrapped', () => {
    const t = JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'logs' });
    expect(parseNotification(t)).toEqual({ kind: 'test', shape: 's3' });
    expect(parseNotification(JSON.stringify({ Type: 'Notification', Message: t }))).toEqual({
      kind: 'test',
      shape: 'sns',
    });
  });
  it('counts non-created events as ignored and refuses what is not a notification', () => {
    expect(parseNotification(JSON.stringify(s3Event('k', 'ObjectRemoved:Delete')))).toMatchObject({
      kind: 'objects',
      objects: [],
      ignored: ['ObjectRemoved:Delete'],
    });
    expect(parseNotification('nope')).toMatchObject({ kind: 'unrecognized', reason: /not JSON/ });
    expect(parseNotification('{"a":1}')).toMatchObject({ kind: 'unrecognized', reason: /not an S3 event/ });
    expect(parseNotification('')).toMatchObject({ kind: 'unrecognized' });
  });
  it('builds ids from bucket, key and version (else ETag)', () => {
    expect(objectId({ bucket: 'b', key: 'k', versionId: 'v', etag: 'e' })).toBe('s3://b/k?v=v');
    expect(objectId({ bucket: 'b', key: 'k', etag: 'e' })).toBe('s3://b/k?v=e');
    expect(decodeS3Key('bad%zz+x')).toBe('bad%zz x');
  });
});
