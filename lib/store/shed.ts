/**
 * Load shedding for points waiting to be written, per instance. The durable store holds
 * points in memory until a seal round writes them (durable.ts); when writes fall behind (a
 * flood, a slow disk) that memory is bounded. A plain bound dropped whatever arrived next,
 * so two flood senders with 200 instances left 2-3 s holes in every well-behaved agent's
 * history (issue 16.8). Here, past half the bound, an instance that holds more than its
 * share of the other half (`max / 2 / instances holding points`) loses its new points, and
 * the others keep theirs: the flooders are shed, as VictoriaMetrics caps series per tenant
 * rather than locking everyone out. The whole bound still holds: what the flooders took
 * before the line is at most half, and after it no instance grows past its share.
 *
 * @module
 */

/** Points one instance has waiting, and how many of its points were shed. */
export interface InstanceLoad {
  readonly instance: string;
  open: number;
  dropped: number;
}

/** Per-instance accounting of the points waiting to be written, with the shedding rule. */
export class Shedder {
  #by = new Map<string, InstanceLoad>();
  /** Instances holding at least one point. */
  #active = 0;
  /** Points waiting, over all instances. */
  total = 0;
  /** Points shed, over all instances. */
  dropped = 0;

  /** `max`: most points waiting in all (the store's `maxOpenPoints`). */
  constructor(readonly max: number) {}

  /** The load record of `instance` (created on first use). */
  of(instance: string): InstanceLoad {
    let load = this.#by.get(instance);
    if (!load) this.#by.set(instance, load = { instance, open: 0, dropped: 0 });
    return load;
  }

  /** True when `load`'s instance may add a point now; false counts it as shed. */
  admit(load: InstanceLoad): boolean {
    const line = this.max / 2;
    if (this.total < line) return true;
    if (this.total < this.max && load.open < line / Math.max(1, this.#active)) return true;
    load.dropped++;
    this.dropped++;
    return false;
  }

  /**
   * True when `n` more points stay under the shedding line whoever sends them: each would be
   * admitted by {@link admit}, and none counts as shed.
   */
  admitsAll(n: number): boolean {
    return this.total + n <= this.max / 2;
  }

  /** Count `n` points (negative: written) for `load`'s instance. */
  add(load: InstanceLoad, n: number): void {
    if (load.open === 0 && n > 0) this.#active++;
    load.open += n;
    this.total += n;
    if (load.open === 0 && n < 0) this.#active--;
  }

  /** The `k` instances that lost the most points, most first. */
  top(k: number): Array<[instance: string, dropped: number]> {
    return [...this.#by.values()].filter((l) => l.dropped > 0)
      .sort((a, b) => b.dropped - a.dropped).slice(0, k)
      .map((l) => [l.instance, l.dropped]);
  }
}
