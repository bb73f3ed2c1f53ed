/**
 * The app of the heap-profile benchmark (bench/heap_profile_cost.ts):
 * `deno run -A bench/heap_app.ts ENDPOINT on|off`. It leaks ~0.3 MB/s in `retainOrders`
 * (50 small arrays of 64 numbers every 100 ms, kept forever) and reports with the agent at
 * 1 Hz; `on` lets the agent profile its heap (trigger after ~15 s of growth over 4 MiB, then
 * the default window: 20 s of V8's sampling heap profiler at 32 KiB), `off` passes
 * `heapProfile: false`. Both run the very same code otherwise. Stops on SIGTERM.
 *
 * @module
 */
import { createAgent } from "../lib/agent/mod.ts";

const [endpoint, mode] = Deno.args;
const on = mode === "on";
const agent = createAgent({
  service: on ? "heap-bench-on" : "heap-bench-off",
  collector: endpoint,
  heapProfile: on
    ? { trigger: { minSpanMs: 15_000, everyMs: 1000, minRiseBytes: 4 * 1024 * 1024 } }
    : false,
});

const orders: number[][] = [];

/** The leak. */
function retainOrders(n: number): void {
  for (let i = 0; i < n; i++) {
    const order: number[] = [];
    for (let j = 0; j < 64; j++) order.push(i * j + 0.5);
    orders.push(order);
  }
}

const work = setInterval(() => retainOrders(50), 100);
Deno.addSignalListener("SIGTERM", async () => {
  clearInterval(work);
  await agent.stop();
  Deno.exit(0);
});
console.log("ready");
