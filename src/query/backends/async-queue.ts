/**
 * A bounded single-consumer async queue: producers `await push()` (resolves once the queue is below
 * its high-water mark), the consumer iterates. This is the back-pressure between scan workers and the
 * query's stateful stage, so a fast scan never buffers more than `highWater` chunks.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private takers: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }[] = [];
  private pushers: (() => void)[] = [];
  private closed = false;
  private failure: unknown;

  constructor(private readonly highWater = 8) {}

  push(item: T): Promise<void> {
    if (this.closed) return Promise.resolve();
    const taker = this.takers.shift();
    if (taker) {
      taker.resolve({ value: item, done: false });
      return Promise.resolve();
    }
    this.items.push(item);
    if (this.items.length < this.highWater) return Promise.resolve();
    return new Promise((r) => this.pushers.push(r));
  }

  close(error?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.failure = error;
    for (const t of this.takers.splice(0)) {
      if (error !== undefined) t.reject(error);
      else t.resolve({ value: undefined, done: true });
    }
    for (const p of this.pushers.splice(0)) p();
  }

  get length(): number {
    return this.items.length;
  }

  private next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) {
      const value = this.items.shift() as T;
      if (this.items.length < this.highWater) this.pushers.shift()?.();
      return Promise.resolve({ value, done: false });
    }
    if (this.closed) {
      if (this.failure !== undefined) return Promise.reject(this.failure);
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => this.takers.push({ resolve, reject }));
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return { next: () => this.next() };
  }
}
