/**
 * Colours for instances that ask for none: a palette colour no other instance on the live
 * charts has (lib/colors.ts `distinctColor`). Which colours the charts use is counted again at
 * most once a second and kept up to date with each colour given in between: counting on every
 * new instance made 10 000 new instances take 2.7 s of the collector's one thread.
 *
 * @module
 */
import { distinctColor, safeColor } from "../colors.ts";
import { type InstanceView, isRetired } from "../model/instance.ts";

/** How long a count of the colours in use is trusted, ms. */
const RECOUNT_MS = 1000;

/** The colours of the instances still drawn, for picking a new one. */
export class ColorsInUse {
  #counts = new Map<string, number>();
  #countedAt = -Infinity;

  /** `views`: every instance known (retired ones are skipped). */
  constructor(private readonly views: () => Iterable<InstanceView>) {}

  /** The colour `requested` when it is safe, else a palette colour the charts do not use. */
  pick(id: string, requested: string | null, now: number): string {
    const safe = safeColor(requested);
    if (safe) return safe;
    if (now - this.#countedAt >= RECOUNT_MS || now < this.#countedAt) {
      this.#counts.clear();
      for (const v of this.views()) {
        if (v.id !== id && !isRetired(v, now)) this.#add(v.color);
      }
      this.#countedAt = now;
    }
    const color = distinctColor(id, this.#counts);
    this.#add(color);
    return color;
  }

  #add(color: string): void {
    this.#counts.set(color, (this.#counts.get(color) ?? 0) + 1);
  }
}
