/**
 * Size/count/age batching for long-running sources: items accumulate per partition until a limit
 * is reached or the oldest item is older than `maxAgeMs`. The batcher holds no timers; the owner
 * calls `due(now)` on its own tick, so it is deterministic to test.
 */
export interface BatchLimits {
  maxRecords: number;
  maxBytes: number;
  maxAgeMs: number;
}

interface Open<T> {
  items: T[];
  bytes: number;
  since: number;
}

export class Batcher<T> {
  private readonly open = new Map<string, Open<T>>();

  constructor(private readonly limits: BatchLimits) {}

  /** Adds an item; returns the batch it completed, if any (the item starts the next batch then). */
  add(item: T, bytes: number, partition = '', now = Date.now()): T[] | undefined {
    let cur = this.open.get(partition);
    let full: T[] | undefined;
    if (
      cur &&
      cur.items.length > 0 &&
      (cur.items.length >= this.limits.maxRecords || cur.bytes + bytes > this.limits.maxBytes)
    ) {
      full = cur.items;
      cur = undefined;
    }
    if (!cur) {
      cur = { items: [], bytes: 0, since: now };
      this.open.set(partition, cur);
    }
    cur.items.push(item);
    cur.bytes += bytes;
    return full;
  }

  /** Batches whose oldest item has waited `maxAgeMs` or longer. */
  due(now = Date.now()): { partition: string; items: T[] }[] {
    const out: { partition: string; items: T[] }[] = [];
    for (const [partition, cur] of this.open) {
      if (cur.items.length > 0 && now - cur.since >= this.limits.maxAgeMs) {
        out.push({ partition, items: cur.items });
        this.open.delete(partition);
      }
    }
    return out;
  }

  /** Everything still open (on shutdown). */
  drain(): { partition: string; items: T[] }[] {
    const out = [...this.open]
      .filter(([, c]) => c.items.length > 0)
      .map(([partition, c]) => ({ partition, items: c.items }));
    this.open.clear();
    return out;
  }

  get size(): number {
    let n = 0;
    for (const c of this.open.values()) n += c.items.length;
    return n;
  }
}
