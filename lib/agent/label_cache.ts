/**
 * The series key of one metric for a label set, cached in a tree of label names and values:
 * an update with labels seen before walks two small Map lookups per label and builds no
 * string (building a raw key per update cost ~3 µs in a timer-driven app, mostly string
 * work), whether the app reuses its label objects or makes new ones per request.
 *
 * @module
 */
import type { Labels } from "./registry.ts";

interface KeyNode {
  /** Children by label name, then by label value. */
  next: Map<string, Map<string, KeyNode>> | null;
  /** The series key of the label set that ends here, once built. */
  key: string | undefined;
}

/** Default bound on cached nodes per metric: the cache restarts empty beyond it. */
export const MAX_KEY_NODES = 4096;

/**
 * A lookup for one metric: the series key for `labels` (the metric name when there are
 * none), built once per distinct label set by `build`. `build` returning null (invalid
 * labels) caches nothing, so every such update is seen (and counted) by `build`.
 */
export function labelKeyCache(
  name: string,
  build: (labels: Labels) => string | null,
  maxNodes = MAX_KEY_NODES,
): (labels: Labels | undefined) => string | null {
  const empty = (): KeyNode => ({ next: null, key: undefined });
  let root = empty();
  let nodes = 0;
  return (labels) => {
    if (labels === undefined) return name;
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
          return build(labels);
        }
        byValue.set(v, child = empty());
      }
      node = child;
    }
    if (node.key === undefined) {
      const key = build(labels);
      if (key === null) return null;
      node.key = key;
    }
    return node.key;
  };
}
