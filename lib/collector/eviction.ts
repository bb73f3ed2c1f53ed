/**
 * Which instance gives its place when the instance registry (instances.ts) is full: the one
 * silent longest, stopped (said goodbye) or gone (60 intervals) before stale (3). So one-shot
 * instances, or a flood of made-up ones, never lock out an agent that comes later, also after
 * a restart (restored instances are silent).
 *
 * @module
 */
import {
  GONE_AFTER_INTERVALS,
  type InstanceView,
  STALE_AFTER_INTERVALS,
} from "../model/instance.ts";

/** An instance as eviction sees it. */
export interface Evictable {
  view: InstanceView;
}

function silentFor(view: InstanceView, intervals: number, now: number): boolean {
  return now - view.lastSeen > intervals * view.intervalMs;
}

/**
 * Candidates are sorted once and used up in order, re-checked as they are taken; with none,
 * the list is rebuilt at most once a second, so a cap full of live instances costs a refused
 * frame nothing more.
 */
export class EvictionOrder {
  /** Eviction candidates, the longest silent last (popped first); rebuilt when used up. */
  #evictable: string[] = [];
  #evictableAt = -Infinity;

  /** The id of the instance in `byId` to evict at `now`, or null when none may go. */
  pick(byId: ReadonlyMap<string, Evictable>, now: number): string | null {
    for (let round = 0; round < 2; round++) {
      while (this.#evictable.length > 0) {
        const id = this.#evictable.pop()!;
        const state = byId.get(id);
        if (state && silentFor(state.view, STALE_AFTER_INTERVALS, now)) return id;
      }
      if (round > 0 || now - this.#evictableAt < 1000) return null;
      this.#evictableAt = now;
      const candidates: Array<[string, number, number]> = [];
      for (const [id, { view }] of byId) {
        if (!silentFor(view, STALE_AFTER_INTERVALS, now)) continue;
        candidates.push([
          id,
          view.status === "stopped" || silentFor(view, GONE_AFTER_INTERVALS, now) ? 0 : 1,
          view.lastSeen,
        ]);
      }
      // Popped from the end: stale after gone, and the longest silent of each last.
      candidates.sort((a, b) => b[1] - a[1] || b[2] - a[2]);
      this.#evictable = candidates.map((c) => c[0]);
    }
    return null;
  }
}
