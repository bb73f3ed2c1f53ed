/**
 * What one metric keeps per label set (its series' cell), cached in a tree of label names
 * and values: an update with labels seen before walks two small Map lookups per label and
 * builds no string. Building a raw key string per update cost ~3 µs in a timer-driven app
 * (bench/agent_cost.ts), mostly string work; this holds whether the app reuses its label
 * objects or makes new ones per request, and a label object changed after use is found
 * under its new values.
 *
 * @module
 */
import type { Labels } from "./registry.ts";

interface Node<T> {
  /** Children by label name, then by label value. */
  next: Map<string, Map<string, Node<T>>> | null;
  /** What the label set that ends here resolved to, once resolved. */
  value: T | undefined;
}

/** Default bound on cached nodes per metric: the cache restarts empty beyond it. */
export const MAX_LABEL_NODES = 4096;

/**
 * A lookup for one metric: `resolve(labels)` runs once per distinct label set (and for no
 * labels) and its answer is kept. An answer of null (invalid labels, a refused series) is
 * not kept, so every such update reaches `resolve` and is counted there.
 */
export function labelCache<T>(
  resolve: (labels: Labels | undefined) => T | null,
  maxNodes = MAX_LABEL_NODES,
): (labels: Labels | undefined) => T | null {
  const empty = (): Node<T> => ({ next: null, value: undefined });
  let root = empty();
  let nodes = 0;
  return (labels) => {
    let node = root;
    for (const k in labels) {
      const raw = labels[k];
      const v = typeof raw === "string" ? raw : String(raw);
      node.next ??= new Map();
      let byValue = node.next.get(k);
      if (byValue === undefined) node.next.set(k, byValue = new Map());
      let child = byValue.get(v);
      if (child === undefined) {
        if (++nodes > maxNodes) {
          // Unbounded label values (ids in labels): start over rather than grow.
          root = empty();
          nodes = 0;
          return resolve(labels);
        }
        byValue.set(v, child = empty());
      }
      node = child;
    }
    if (node.value !== undefined) return node.value;
    const value = resolve(labels);
    if (value !== null) node.value = value;
    return value;
  };
}
