/**
 * The agent as an npm package (`deno task build-agent`): built into a temp dir, installed with
 * `npm install <dir>` into a fresh temp Node project, imported as `zeroapm-agent` by Node 20,
 * reporting to a real collector; and its declarations type-check an app that uses it.
 */
import assert from "node:assert/strict";
import { startTestCollector } from "../support/collector.ts";
import { existsSync } from "node:fs";
import {
  BUILD_AGENT_USAGE,
  buildAgentPackage,
  main,
  PACKAGE_NAME,
} from "../../lib/cmd/build_agent.ts";
import { waitFor } from "../support/live.ts";
import type { InstanceView } from "../../lib/live/messages.ts";

const NODE = "/usr/bin/node";
const NPM = "/usr/bin/npm";
const haveNode = existsSync(NODE) && existsSync(NPM);
const inCI = Boolean(Deno.env.get("CI"));

const APP = `
import process from "node:process";
import { createAgent } from "zeroapm-agent";
const agent = createAgent({ service: "node-pkg", collector: process.argv[2], intervalMs: 50 });
agent.metrics.counter("orders.placed_total").inc({ kind: "web" });
const work = setInterval(async () => {
  if (agent.stats().sent < 3) return;
  clearInterval(work);
  await agent.stop();
  console.log(JSON.stringify({ node: process.version, stats: agent.stats() }));
}, 20);
`;

// A CommonJS app (npm init's default) requires the package: Node refuses to require() a module
// graph that awaits at its top level, as the agent's once did.
const CJS_APP = `
const { createAgent } = require("zeroapm-agent");
const agent = createAgent({ service: "node-cjs", collector: process.argv[2], intervalMs: 50 });
const work = setInterval(async () => {
  if (agent.stats().sent < 3) return;
  clearInterval(work);
  await agent.stop();
  console.log(JSON.stringify({ stats: agent.stats() }));
}, 20);
`;

// Type-checked against the package's declarations; the misspelt option must be an error
// (an unused @ts-expect-error is one too), so the types are real, not `any`.
const TYPED = `
import { type Agent, createAgent } from "zeroapm-agent";
const agent: Agent = createAgent({ service: "typed", intervalMs: 50 });
agent.metrics.counter("jobs.done_total").inc({ queue: "mail" });
agent.metrics.histogram("jobs.duration_ms").observe(3);
export const sent: number = agent.stats().sent;
// @ts-expect-error: not an option
createAgent({ servce: "typo" });
`;

async function run(cmd: string, args: string[], cwd: string, ms = 60_000) {
  const child = new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return {
    pid: child.pid,
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

Deno.test({
  name: "the agent package installs into a fresh Node project and reports to a real collector",
  ignore: !haveNode && !inCI,
  async fn() {
    const pkg = await Deno.makeTempDir({ prefix: "zeroapm-agent-pkg-" });
    const app = await Deno.makeTempDir({ prefix: "zeroapm-node-app-" });
    const collector = await startTestCollector();
    try {
      await buildAgentPackage(`${pkg}/agent`);
      const manifest = JSON.parse(await Deno.readTextFile(`${pkg}/agent/package.json`));
      assert.equal(manifest.name, PACKAGE_NAME);
      assert.ok(existsSync(`${pkg}/agent/${manifest.exports["."].types}`));

      await Deno.writeTextFile(
        `${app}/package.json`,
        JSON.stringify({ name: "app", private: true, type: "module" }),
      );
      const install = await run(NPM, [
        "install",
        "--offline",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        `${pkg}/agent`,
      ], app);
      assert.equal(install.code, 0, `npm install failed:\n${install.stderr}`);
      assert.ok(existsSync(`${app}/node_modules/zeroapm-agent/${manifest.main}`));

      await Deno.writeTextFile(`${app}/main.mjs`, APP);
      const node = await run(NODE, ["main.mjs", collector.zmqEndpoint], app, 20_000);
      assert.equal(node.code, 0, `node failed:\n${node.stderr}`);
      const report = JSON.parse(node.stdout.trim().split("\n").at(-1)!);
      assert.match(report.node, /^v20\./);
      assert.ok(report.stats.sent >= 3, node.stdout);

      const view = await waitFor(async () => {
        const rows = await (await fetch(`${collector.httpUrl}/api/instances`)).json();
        return (rows as InstanceView[]).find((v) =>
          v.service === "node-pkg" && v.received >= report.stats.sent
        );
      }, "the Node app's samples at the collector");
      assert.equal(view.pid, node.pid);
      assert.equal(view.status, "stopped", "agent.stop() said goodbye from Node too");
      assert.equal(view.latest['orders.placed_total{kind="web"}'], 1);
      assert.ok(view.latest["mem.rss_bytes"] > 1_000_000, JSON.stringify(view.latest));

      await Deno.writeTextFile(`${app}/main.cjs`, CJS_APP);
      const cjs = await run(NODE, ["main.cjs", collector.zmqEndpoint], app, 20_000);
      assert.equal(cjs.code, 0, `node main.cjs failed:\n${cjs.stderr}`);
      const cjsSent = JSON.parse(cjs.stdout.trim().split("\n").at(-1)!).stats.sent;
      const cjsView = await waitFor(async () => {
        const rows = await (await fetch(`${collector.httpUrl}/api/instances`)).json();
        return (rows as InstanceView[]).find((v) =>
          v.service === "node-cjs" && v.received >= cjsSent && v.status === "stopped"
        );
      }, "the CommonJS app's samples and goodbye at the collector");
      assert.equal(cjsView.pid, cjs.pid);

      await Deno.writeTextFile(`${app}/typed.ts`, TYPED);
      const { default: ts } = await import("typescript");
      const program = ts.createProgram([`${app}/typed.ts`], {
        strict: true,
        noEmit: true,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        target: ts.ScriptTarget.ES2022,
        lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
        types: [],
      });
      const problems = ts.getPreEmitDiagnostics(program).map((d) =>
        `${d.file?.fileName ?? ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`
      );
      assert.deepEqual(problems, []);
    } finally {
      await collector.stop();
      await Deno.remove(pkg, { recursive: true });
      await Deno.remove(app, { recursive: true });
    }
  },
});

Deno.test("build-agent --help prints its usage and builds nothing; an unknown flag exits 2", async () => {
  const out: string[] = [];
  const err: string[] = [];
  assert.equal(await main(["--help"], (s) => out.push(s), (s) => err.push(s)), 0);
  assert.deepEqual(out, [BUILD_AGENT_USAGE], "a build would also log its 'wrote' line");
  assert.equal(await main(["--out", "x"], (s) => out.push(s), (s) => err.push(s)), 2);
  assert.match(err.join("\n"), /^build-agent: Unknown option '--out'/);
});

// A Deno app on the built agent: plain JavaScript, which Deno loads without transpiling the
// agent's TypeScript modules (docs/benchmarks.md, agent cost), typed through @ts-self-types.
const DENO_APP = `
import { type Agent, createAgent } from "./agent/mod.js";
const agent: Agent = createAgent({ service: "deno-built", collector: Deno.args[0], intervalMs: 50 });
agent.metrics.counter("orders.placed_total").inc({ kind: "web" });
// @ts-expect-error: not an option
if (Deno.args[1] === "never") createAgent({ servce: "typo" });
while (agent.stats().sent < 3) await new Promise((r) => setTimeout(r, 20));
await agent.stop();
console.log(JSON.stringify(agent.stats()));
`;

Deno.test("a Deno app type-checks against the built agent and reports through it", async () => {
  // Outside the repository: no deno.json, import map or node_modules to lean on.
  const dir = await Deno.makeTempDir({ prefix: "zeroapm-deno-app-" });
  const collector = await startTestCollector();
  try {
    await buildAgentPackage(`${dir}/agent`);
    await Deno.writeTextFile(`${dir}/main.ts`, DENO_APP);
    const check = await run(Deno.execPath(), ["check", "main.ts"], dir);
    assert.equal(check.code, 0, `deno check failed:\n${check.stderr}`);
    const app = await run(Deno.execPath(), ["run", "-A", "main.ts", collector.zmqEndpoint], dir);
    assert.equal(app.code, 0, `the app failed:\n${app.stderr}`);
    const stats = JSON.parse(app.stdout.trim().split("\n").at(-1)!);
    const view = await waitFor(async () => {
      const rows = await (await fetch(`${collector.httpUrl}/api/instances`)).json();
      return (rows as InstanceView[]).find((v) =>
        v.service === "deno-built" && v.received >= stats.sent
      );
    }, "the Deno app's samples at the collector");
    assert.equal(view.pid, app.pid);
    assert.equal(view.latest['orders.placed_total{kind="web"}'], 1);
  } finally {
    await collector.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
