/**
 * An instance's id from its (service, instance), and a bounded cache of the ids of the
 * instances that report (Instances asks for one per message).
 *
 * @module
 */

/** Stable, URL-safe id of an instance. Two apps with the same colour are still two ids. */
export function instanceId(service: string, instance: string): string {
  return `${encodeURIComponent(service)}/${encodeURIComponent(instance)}`;
}

/** Most ids {@link IdCache} keeps: twice the default instance cap (instances.ts). */
const ID_CACHE_SIZE = 20_000;

/**
 * {@link instanceId} of the instances that report, kept: every message asks for its sender's
 * id, and building it (a string, two encodeURIComponent) cost more than two Map lookups of
 * the strings JSON.parse already made. Bounded: when full it starts over empty (a flood of
 * made-up names costs the cache, never memory).
 */
export class IdCache {
  #byService = new Map<string, Map<string, string>>();
  #size = 0;

  /** The id of (service, instance), as {@link instanceId} makes it. */
  get(service: string, instance: string): string {
    let ids = this.#byService.get(service);
    let id = ids?.get(instance);
    if (id !== undefined) return id;
    id = instanceId(service, instance);
    if (this.#size >= ID_CACHE_SIZE) {
      this.#byService.clear();
      this.#size = 0;
      ids = undefined;
    }
    if (ids === undefined) this.#byService.set(service, ids = new Map());
    ids.set(instance, id);
    this.#size++;
    return id;
  }
}
