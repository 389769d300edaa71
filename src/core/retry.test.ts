import { describe, expect, it } from 'vitest';
import { backoffDelayMs, deadlineIn, lambdaDeadline, NO_DEADLINE } from './retry.js';

describe('backoffDelayMs', () => {
  const policy = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1_000 };

  it('is full jitter under a doubling cap', () => {
    expect(backoffDelayMs(policy, 1, 0, () => 0.999)).toBe(99);
    expect(backoffDelayMs(policy, 3, 0, () => 0.999)).toBe(399);
    expect(backoffDelayMs(policy, 9, 0, () => 0.999)).toBe(999);
    expect(backoffDelayMs(policy, 9, 0, () => 0)).toBe(0);
  });

  it('honours a throttle hint, within the maximum delay', () => {
    expect(backoffDelayMs(policy, 1, 700, () => 0)).toBe(700);
    expect(backoffDelayMs(policy, 1, 60_000, () => 0)).toBe(1_000);
  });
});

describe('deadlines', () => {
  it('counts down from now', () => {
    let now = 1_000;
    const d = deadlineIn(500, () => now);
    expect(d.remainingMs()).toBe(500);
    now = 1_600;
    expect(d.remainingMs()).toBe(-100);
    expect(NO_DEADLINE.remainingMs()).toBe(Number.POSITIVE_INFINITY);
  });

  it('keeps a safety margin from the Lambda context', () => {
    expect(lambdaDeadline({ getRemainingTimeInMillis: () => 10_000 }, 3_000).remainingMs()).toBe(7_000);
    expect(lambdaDeadline(undefined).remainingMs()).toBe(Number.POSITIVE_INFINITY);
  });
});
