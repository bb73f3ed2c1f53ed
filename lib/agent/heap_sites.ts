/**
 * From V8's sampling heap profile (`HeapProfiler.getSamplingProfile`: a call tree whose
 * nodes hold the sampled bytes still live) to allocation sites a person can act on. A site
 * is the nearest frame in the app's own code: bytes allocated inside V8 builtins
 * (`Array.prototype.push`, no URL) or the runtime (`ext:`, `node:` modules) count for the
 * script function that called them. The agent's own code is not a site either: what it
 * allocates for the app (a metric the app's code creates) counts for that code, and what it
 * allocates on its own (its backlog, the very profile being taken) is left out, or the leak's
 * explanation named zeroapm's files. Two profiles of one sampling session give each site's
 * growth. Pure; the tree is walked without recursion, so a deep stack cannot overflow it.
 *
 * @module
 */
import type { HeapSite } from "../protocol_profile.ts";

/** A call-tree node as the inspector sends it (only the fields used). */
export interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  selfSize: number;
  id: number;
  children?: ProfileNode[];
}

/** A sampling heap profile as the inspector sends it. */
export interface SamplingProfile {
  head: ProfileNode;
  samples?: Array<{ size: number; nodeId: number }>;
}

/** Bytes and samples per site key (`fn\0url\0line\0col`). */
export type SiteTotals = Map<string, { bytes: number; samples: number }>;

/** Whether a frame belongs to the app (a script with a URL), not to V8 or the runtime. */
export function isAppFrame(url: string): boolean {
  return url !== "" && !url.startsWith("ext:") && !url.startsWith("node:") &&
    !url.startsWith("internal") && !url.startsWith("deno:");
}

/** Below a frame of the agent's own code with no app frame above it (see the module doc). */
const AGENT_ONLY = "\0agent";

/**
 * Live sampled bytes and samples per site in one profile. `ours` tells the agent's own
 * scripts (by URL) from the app's.
 */
export function siteTotals(
  profile: SamplingProfile,
  ours: (url: string) => boolean = () => false,
): SiteTotals {
  const samplesOf = new Map<number, number>();
  for (const s of profile.samples ?? []) {
    samplesOf.set(s.nodeId, (samplesOf.get(s.nodeId) ?? 0) + 1);
  }
  const out: SiteTotals = new Map();
  // Depth-first with an explicit stack; each entry carries the nearest app frame above it.
  const stack: Array<[ProfileNode, string | null]> = [[profile.head, null]];
  while (stack.length > 0) {
    const [node, above] = stack.pop()!;
    const f = node.callFrame;
    const agent = f.url !== "" && ours(f.url);
    const own = isAppFrame(f.url) && !agent
      ? `${f.functionName || "(anonymous)"}\0${f.url}\0${f.lineNumber + 1}\0${f.columnNumber + 1}`
      : null;
    const site = own ?? above ?? (agent ? AGENT_ONLY : null);
    if (node.selfSize > 0 && site !== AGENT_ONLY) {
      const key = site ??
        `${f.functionName || "(anonymous)"}\0${f.url}\0${f.lineNumber + 1}\0${f.columnNumber + 1}`;
      const t = out.get(key) ?? { bytes: 0, samples: 0 };
      t.bytes += node.selfSize;
      t.samples += samplesOf.get(node.id) ?? 0;
      out.set(key, t);
    }
    for (const c of node.children ?? []) stack.push([c, site]);
  }
  return out;
}

/**
 * The top sites of the second profile, most growth since the first, then most bytes. When
 * anything grew, only what grew: a site that held its bytes through the window explains no
 * leak (the demo listed `processTicksAndRejections (01_core.js:356) · 0 %` under its leak).
 * When nothing grew, the largest holders.
 */
export function topSites(first: SiteTotals, second: SiteTotals, limit: number): {
  sites: HeapSite[];
  totalBytes: number;
  totalGrowth: number;
} {
  const all: HeapSite[] = [];
  let totalBytes = 0;
  let totalGrowth = 0;
  for (const [key, t] of second) {
    const growth = t.bytes - (first.get(key)?.bytes ?? 0);
    totalBytes += t.bytes;
    totalGrowth += growth;
    const [fn, url, line, col] = key.split("\0");
    all.push({
      fn,
      url,
      line: +line || 0,
      col: +col || 0,
      bytes: t.bytes,
      samples: t.samples,
      growth,
    });
  }
  all.sort((a, b) => b.growth - a.growth || b.bytes - a.bytes);
  const grew = all[0]?.growth > 0 ? all.filter((s) => s.growth > 0) : all;
  return { sites: grew.slice(0, limit), totalBytes, totalGrowth };
}
