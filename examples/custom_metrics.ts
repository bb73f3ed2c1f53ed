/**
 * A worker that reports its own metrics next to CPU and memory. Run a collector, then this:
 *
 *     deno task server                              # terminal 1: http://127.0.0.1:8000
 *     deno run -A examples/custom_metrics.ts        # terminal 2; Ctrl-C stops it
 *
 * @module
 */
import { createAgent } from "../lib/agent/mod.ts";

// The collector's ZMQ endpoint: tcp://127.0.0.1:5555 unless ZEROAPM_ZMQ says otherwise.
const agent = createAgent({ service: "worker", collector: Deno.env.get("ZEROAPM_ZMQ") });

// Register once, at start-up: a bad name throws here, not in the middle of a job.
const jobs = agent.metrics.counter("jobs.done_total"); // counters end in _total
const queued = agent.metrics.gauge("queue.depth"); // the last value set is sent
const took = agent.metrics.histogram("jobs.duration_ms"); // fixed buckets, 0.5 ms .. 60 s

const queues = ["email", "sms"]; // label values: a few known ones, never ids or raw paths
const timer = setInterval(async () => {
  const queue = queues[Math.floor(Math.random() * queues.length)];
  const started = performance.now();
  await new Promise((r) => setTimeout(r, Math.random() * 50)); // the "work"
  const ok = Math.random() > 0.05;
  jobs.inc({ queue, outcome: ok ? "ok" : "failed" }); // one series per label set
  took.observe(performance.now() - started, { queue });
  queued.set(Math.floor(Math.random() * 20), { queue });
}, 100);

Deno.addSignalListener("SIGINT", async () => {
  clearInterval(timer);
  await agent.stop(); // sends what is still buffered
  console.log("stopped:", agent.stats(), agent.metrics.stats());
});
