/**
 * The agent's bounded send buffer: a FIFO ring that never grows past its limit. When it is
 * full the oldest sample is dropped and counted, so a long collector outage costs memory
 * once (the limit) and shows up as a counted sequence gap, never as unbounded growth.
 * The ring starts small and doubles as it fills: while the collector keeps up it holds one
 * or two samples, and a ring of the default hour (3 600 slots) would be 29 KB of an app's
 * heap held for nothing (docs/benchmarks-changes.md, stop 38).
 *
 * @module
 */

/** A bounded FIFO queue that drops (and counts) its oldest item when full. */
export interface Backlog<T> {
  /** Most items held at once. */
  readonly limit: number;
  /** Items waiting now. */
  readonly size: number;
  /** Items dropped so far because the backlog was full. */
  readonly dropped: number;
  /** Append an item; when full, first drop the oldest. Returns true when one was dropped. */
  push(item: T): boolean;
  /** Remove and return up to `max` of the oldest items, oldest first. */
  take(max: number): T[];
  /**
   * Put items taken with {@link take} back at the front (they failed to send), keeping
   * their order. Items that no longer fit are the oldest ones: they are dropped and counted.
   */
  restore(items: readonly T[]): void;
}

/** Slots of a new ring; it doubles when full, up to the limit. */
export const INITIAL_CAPACITY = 16;

/** Create an empty backlog holding at most `limit` items (a positive integer). */
export function createBacklog<T>(limit: number): Backlog<T> {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`backlog limit must be a positive integer, got ${limit}`);
  }
  let ring: (T | undefined)[] = new Array(Math.min(limit, INITIAL_CAPACITY));
  let head = 0; // index of the oldest item
  let size = 0;
  let dropped = 0;

  const at = (i: number) => (head + i) % ring.length;
  /** Room for `n` items: the ring doubled until they fit (at most `limit`), oldest first. */
  const reserve = (n: number) => {
    if (n <= ring.length) return;
    let capacity = ring.length;
    while (capacity < n) capacity = Math.min(limit, capacity * 2);
    const next: (T | undefined)[] = new Array(capacity);
    for (let i = 0; i < size; i++) next[i] = ring[at(i)];
    ring = next;
    head = 0;
  };

  return {
    limit,
    get size() {
      return size;
    },
    get dropped() {
      return dropped;
    },
    push(item) {
      let droppedOne = false;
      if (size === limit) {
        ring[head] = undefined;
        head = at(1);
        size--;
        dropped++;
        droppedOne = true;
      } else reserve(size + 1);
      ring[at(size)] = item;
      size++;
      return droppedOne;
    },
    take(max) {
      const n = Math.max(0, Math.min(Math.floor(max), size));
      const out: T[] = new Array(n);
      for (let i = 0; i < n; i++) {
        out[i] = ring[head] as T;
        ring[head] = undefined;
        head = at(1);
      }
      size -= n;
      return out;
    },
    restore(items) {
      // Items being restored are older than everything held, so overflow drops them first.
      const fit = Math.min(items.length, limit - size);
      dropped += items.length - fit;
      reserve(size + fit);
      for (let i = items.length - 1; i >= items.length - fit; i--) {
        head = (head - 1 + ring.length) % ring.length;
        ring[head] = items[i];
        size++;
      }
    },
  };
}
