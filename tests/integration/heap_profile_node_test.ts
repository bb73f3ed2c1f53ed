/**
 * The heap profiler under Node 20, as under Deno: the bundled agent in a real Node process
 * whose heap grows in `retainOrders` sends that function with its file and line to a real
 * collector; a flat Node app never loads `node:inspector` (Node's own list of loaded
 * modules, `process.moduleLoadList`, says so) and sends no profile.
 */
import assert from "node:assert/strict";
import { startTestCollector } from "../support/collector.ts";
import { existsSync } from "node:fs";
import { bundleAgentForNode } from "../support/node_bundle.ts";
import { waitFor } from "../support/live.ts";

const NODE = "/usr/bin/node";
const haveNode = existsSync(NODE);
const inCI = Boolean(Deno.env.get("CI"));

const APP = `import process from "node:process";
import { createAgent } from "./agent.mjs";
const flat = process.argv[3] === "--flat";
const agent = createAgent({
  service: flat ? "node-flat" : "node-leaky",
  collector: process.argv[2],
  intervalMs: 250,
  heapProfile: { trigger: { minSpanMs: 5000, everyMs: 1000, minRiseBytes: 8 * 1024 * 1024 }, windowMs: 4000 },
});
const orders = [];
function retainOrders(n) {
  for (let i = 0; i < n; i++) {
    const order = [];
    for (let j = 0; j < 64; j++) order.push(i * j + 0.5);
    orders.push(order);
  }
}
function processOrders(n) {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const order = [];
    for (let j = 0; j < 64; j++) order.push(i * j + 0.5);
    sum += order.length;
  }
  return sum;
}
const work = setInterval(() => flat ? processOrders(300) : retainOrders(300), 100);
process.on("SIGTERM", async () => {
  clearInterval(work);
  await agent.stop();
  console.log(JSON.stringify({ inspector: process.moduleLoadList.includes("NativeModule inspector") }));
  process.exit(0);
});
`;

const LINE = APP.split("\n").findIndex((l) => l.startsWith("function retainOrders(")) + 1;

async function runApp(dir: string, endpoint: string, flat: boolean, until: () => Promise<unknown>) {
  const child = new Deno.Command(NODE, {
    args: [`${dir}/main.mjs`, endpoint, ...(flat ? ["--flat"] : [])],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = child.output();
  try {
    await until();
  } finally {
    child.kill("SIGTERM");
  }
  const o = await out;
  const text = new TextDecoder().decode(o.stdout).trim().split("\n").at(-1) ?? "";
  assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
  return JSON.parse(text) as { inspector: boolean };
}

Deno.test({
  name: "Node app leaking in retainOrders reports it; a flat Node app never loads node:inspector",
  ignore: !haveNode && !inCI,
  async fn() {
    const c = await startTestCollector();
    const dir = await bundleAgentForNode("heap-node-");
    await Deno.writeTextFile(`${dir}/main.mjs`, APP);
    const get = async (path: string) => await (await fetch(c.httpUrl + path)).json();
    try {
      const leaky = await runApp(dir, c.zmqEndpoint, false, () =>
        waitFor(
          async () => {
            const { profiles } = await get("/api/profiles");
            return profiles.find((p: { service: string }) => p.service === "node-leaky");
          },
          "the Node app's profile",
          60_000,
          250,
        ));
      assert.equal(leaky.inspector, true, "the leaking app loaded node:inspector");
      const { profiles } = await get("/api/profiles");
      const top = profiles[0].sites[0];
      assert.equal(top.fn, "retainOrders");
      assert.equal(top.url, `file://${dir}/main.mjs`);
      assert.equal(top.line, LINE);
      assert.ok(top.growth > 1024 * 1024, `growth ${top.growth}`);

      const flat = await runApp(dir, c.zmqEndpoint, true, () =>
        waitFor(
          async () => {
            const list = await get("/api/instances") as Array<
              { service: string; received: number }
            >;
            return list.find((v) => v.service === "node-flat" && v.received >= 80);
          },
          "20 s of the flat Node app",
          60_000,
          250,
        ));
      assert.equal(flat.inspector, false, "the flat app loaded node:inspector");
      const after = await get("/api/profiles");
      assert.equal(after.profiles.length, 1, "only the leaking app sent a profile");
    } finally {
      await c.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
