import { describe, expect, it } from 'vitest';
import { describeDeadLetter } from './run.js';

describe('run summary: dead-letter destination', () => {
  it('shows a relative file path resolved against the config directory, where the entries really go', () => {
    expect(describeDeadLetter({ type: 'file', path: './dl' }, '/etc/logferry')).toBe(
      '/etc/logferry/dl (file)',
    );
    expect(describeDeadLetter({ type: 'file', path: '/var/dl.ndjson' }, '/etc/logferry')).toBe(
      '/var/dl.ndjson (file)',
    );
    expect(describeDeadLetter({ type: 'sqs', queueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/q' })).toBe(
      'https://sqs.eu-west-1.amazonaws.com/1/q (sqs)',
    );
  });
});
