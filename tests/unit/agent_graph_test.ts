/**
 * Under Deno the agent loads no `node:` module (issue 14): the first one brings up Deno's
 * Node layer, memory a plain Deno app would pay for the agent alone.
 *
 * "Loaded" here means statically reachable from lib/agent/mod.ts: the module graph of
 * `deno info --json`, following static imports only. Dynamic imports are the paths a Deno
 * app without CURVE, Node or a heap leak never runs: `node:net` (lib/transport/zmtp/dial.ts,
 * Node only), `node:inspector`
 * (lib/agent/heap_profile.ts, on a leak) and npm:zeromq (CURVE). Deno still fetches every
 * `import("literal")` of the graph at start-up without running it; for `node:` modules that
 * costs nothing measurable, for an npm package it brings up the npm resolver, so npm:zeromq
 * is imported by a specifier Deno cannot read ahead (lib/transport/zmq.ts).
 */
import assert from "node:assert/strict";
import { agentScripts } from "../../lib/agent/heap_profile.ts";

interface InfoModule {
  specifier: string;
  dependencies?: Array<{ specifier: string; code?: { specifier: string }; isDynamic?: boolean }>;
}

const ROOT = new URL("../../", import.meta.url);

async function graph(entry: string): Promise<Map<string, InfoModule>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: InfoModule[] };
  return new Map(info.modules.map((m) => [m.specifier, m]));
}

/** Modules reached from `entry` by static imports alone, as paths from the repository root. */
async function staticModules(entry: string): Promise<Set<string>> {
  const mods = await graph(entry);
  const seen = new Set<string>();
  const stack = [new URL(entry, ROOT).href];
  while (stack.length > 0) {
    const s = stack.pop()!;
    if (seen.has(s)) continue;
    seen.add(s);
    for (const d of mods.get(s)?.dependencies ?? []) {
      if (d.code?.specifier && !d.isDynamic) stack.push(d.code.specifier);
    }
  }
  return new Set([...seen].map((s) => s.startsWith(ROOT.href) ? s.slice(ROOT.href.length) : s));
}

/** `node:` specifiers reached from `entry`: static ones, and those behind a dynamic import. */
async function nodeImports(entry: string): Promise<{ static: string[]; dynamic: string[] }> {
  const mods = await graph(entry);
  const root = new URL(entry, ROOT).href;
  const found = { static: new Set<string>(), dynamic: new Set<string>() };
  // Static edges first, all of them; then what only a dynamic import leads to.
  const walk = (starts: string[], seen: Set<string>, kind: "static" | "dynamic") => {
    const later: string[] = [];
    const stack = [...starts];
    while (stack.length > 0) {
      const s = stack.pop()!;
      if (seen.has(s)) continue;
      seen.add(s);
      for (const d of mods.get(s)?.dependencies ?? []) {
        const to = d.code?.specifier;
        if (!to) continue;
        if (d.isDynamic && kind === "static") later.push(to);
        else if (to.startsWith("node:")) found[kind].add(to);
        else stack.push(to);
      }
    }
    return later;
  };
  const statics = new Set<string>();
  const dynamicStarts = walk([root], statics, "static");
  for (const to of dynamicStarts.filter((s) => s.startsWith("node:"))) found.dynamic.add(to);
  walk(dynamicStarts.filter((s) => !s.startsWith("node:")), new Set(statics), "dynamic");
  return { static: [...found.static].sort(), dynamic: [...found.dynamic].sort() };
}

Deno.test("the agent under Deno statically reaches no node: module", async () => {
  const found = await nodeImports("lib/agent/mod.ts");
  assert.deepEqual(found.static, []);
  // The Node paths are still there, behind dynamic imports (the Node platform takes its
  // modules from process.getBuiltinModule, and imports none).
  assert.deepEqual(found.dynamic, ["node:inspector", "node:net"]);
});

Deno.test("the graph walk sees a static node: import (the durable store's SQLite)", async () => {
  const found = await nodeImports("lib/store/sqlite.ts");
  assert.deepEqual(found.static, ["node:sqlite"]);
});

Deno.test("no npm package is in the agent's graph, not even behind a dynamic import", async () => {
  // Deno fetches a graph's dynamic imports at start-up: one npm specifier among them cost
  // every Deno app with the agent about 1 MiB of RSS (bench/agent_cost.ts, issue 14).
  const mods = await graph("lib/agent/mod.ts");
  const npm = [...mods.values()].flatMap((m) =>
    (m.dependencies ?? []).filter((d) => d.code?.specifier.startsWith("npm:")).map((d) =>
      `${m.specifier.replace(ROOT.href, "")} -> ${d.code!.specifier}`
    )
  );
  assert.deepEqual(npm, []);
  // zeromq is still reached, as types only (lib/transport/zmq.ts loads it when evaluated).
  const zmq = mods.get(new URL("lib/transport/zmq.ts", ROOT).href);
  assert.ok(zmq?.dependencies?.some((d) => d.specifier === "zeromq"), "zmq.ts lost zeromq");
});

Deno.test("the agent loads neither the decoder nor the heap window's modules until needed", async () => {
  // Every module an app loads costs it memory (docs/benchmarks.md, agent cost): the agent
  // encodes but never decodes, and reads a heap profile only once its heap grows.
  const mods = await staticModules("lib/agent/mod.ts");
  assert.ok(mods.has("lib/protocol_encode.ts") && mods.has("lib/agent/heap_profile.ts"));
  for (
    const m of [
      "lib/protocol.ts",
      "lib/protocol_profile.ts",
      "lib/agent/heap_sites.ts",
      "lib/agent/heap_lines.ts",
    ]
  ) {
    assert.ok(!mods.has(m), `${m} is loaded with the agent`);
  }
});

Deno.test("the heap profiler counts every module of the agent's graph as the agent's, no app's", async () => {
  // A file the agent runs and the profiler took for the app's was shown as a leak site: the
  // heap trigger's own readings grew in lib/alerts/leak.ts, under the app's leak.
  const ours = agentScripts(new URL("lib/agent/heap_profile.ts", ROOT).href);
  const mods = [...(await graph("lib/agent/mod.ts")).keys()].filter((s) => s.startsWith("file:"));
  assert.ok(mods.length > 20, `${mods.length} modules`);
  const missed = mods.filter((s) => !ours(s)).map((s) => s.slice(ROOT.href.length));
  assert.deepEqual(missed, [], "add these to AGENT_DEPENDENCIES (lib/agent/heap_profile.ts)");
  for (const app of ["backend_app.ts", "lib/demo_app/load.ts", "examples/custom_metrics.ts"]) {
    assert.ok(!ours(new URL(app, ROOT).href), `${app} is the app's`);
  }
});
