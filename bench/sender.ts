/**
 * A benchmark sender process: `deno run -A bench/sender.ts '<SenderConfig JSON>'`.
 *
 * It prepares its frames first (outside the timed part), prints `{"ready":true}`, waits for
 * `go` on stdin, then sends with lib/transport/zmq.ts `connectPush` exactly as the agent does: one
 * send pending per socket, every send awaited, and a frame refused by `trySend` (high-water
 * mark reached) kept and retried after yielding. It prints one JSON result line and exits
 * when stdin closes (closing the socket only then, so no queued frame is lost).
 *
 * Modes: `burst` sends `frames` pre-encoded frames as fast as ZMQ takes them (or, with
 * `rateHz`, at that many frames per second: background load for the latency bench); `paced` sends
 * single-sample frames at `rateHz` for `durationMs`, each carrying its send time in the
 * metric `bench.sent_ms` (for the latency benchmark).
 *
 * @module
 */
import { connectPush } from "../lib/transport/zmq.ts";
import { agentMetrics, benchIdentity, type Form, makeFrames } from "./frames.ts";
import { createEncoder, encode } from "../lib/protocol.ts";
import { readLines } from "./procs.ts";

/** What the parent asks a sender to do. */
export interface SenderConfig {
  endpoint: string;
  mode: "burst" | "paced";
  instances: string[];
  form: Form;
  batchSize: number;
  /** burst: frames to send. */
  frames: number;
  /**
   * burst: encode only this many distinct frames and send them in a cycle (raw runs only:
   * a counting receiver does not care that seq repeats; the collector needs them unique).
   */
  pool?: number;
  /** paced: frames per second and how long. burst: optional pace, frames per second. */
  rateHz?: number;
  durationMs?: number;
  /** ZMQ send high-water mark, frames. */
  sendHwm: number;
}

/** The line a sender prints when it is done. */
export interface SenderResult {
  sent: number;
  samples: number;
  /** trySend answers of false (queue full or not yet connected), each followed by a yield. */
  refusals: number;
  /** Time from `go` to the last frame accepted by ZMQ, ms. */
  sendMs: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const emit = (o: unknown) => console.log(JSON.stringify(o));

/** Frame k of a paced burst, encoded now: instances round-robin, each counting its seq. */
function pacedEncoder(cfg: SenderConfig): (k: number) => Uint8Array {
  const encoders = cfg.instances.map((n) => createEncoder(benchIdentity(n)));
  const seq = cfg.instances.map(() => 0);
  const per = cfg.form === "single" ? 1 : cfg.batchSize;
  return (k) => {
    const i = k % encoders.length;
    const at = Date.now();
    const samples = [];
    for (let j = 0; j < per; j++) {
      const s = ++seq[i];
      samples.push({ seq: s, ts: at, metrics: agentMetrics(s) });
    }
    return encoders[i](samples, at);
  };
}

async function main() {
  const cfg = JSON.parse(Deno.args[0]) as SenderConfig;
  const push = connectPush(cfg.endpoint, { sendHighWaterMark: cfg.sendHwm, lingerMs: 5000 });
  const prepared = cfg.mode === "burst"
    ? makeFrames(
      cfg.instances,
      cfg.form,
      cfg.batchSize,
      cfg.rateHz ? 1 : Math.min(cfg.frames, cfg.pool ?? Infinity),
    )
    : null;
  const lines = readLines(Deno.stdin.readable);
  emit({ ready: true });
  const first = await lines.next();
  if (first.done || first.value !== "go") return push.close();

  let refusals = 0;
  const send = async (frame: Uint8Array) => {
    while (!(await push.trySend(frame))) {
      refusals++;
      // Yield to the event loop (a spin would starve the receiver on a small machine).
      await sleep(0);
    }
  };
  const t0 = performance.now();
  let sent = 0;
  let samples = 0;
  if (prepared) {
    const pool = prepared.frames;
    const period = cfg.rateHz ? 1000 / cfg.rateHz : 0;
    // Paced frames are encoded as they are sent, so `sent` (and `ts`) is the send time, as
    // an agent's is: the collector's queueing delay at arrival is then real, not the age
    // of a frame prepared before the run.
    const paced = cfg.rateHz ? pacedEncoder(cfg) : null;
    for (let k = 0; k < cfg.frames; k++) {
      // Paced: sleep until the next frame is due, then send every frame that is due.
      const wait = t0 + k * period - performance.now();
      if (wait > 1) await sleep(wait);
      await send(paced ? paced(k) : pool[k % pool.length]);
    }
    sent = cfg.frames;
    samples = cfg.frames * (prepared.samples / pool.length);
  } else {
    const period = 1000 / cfg.rateHz!;
    const n = Math.round(cfg.durationMs! / period);
    const id = benchIdentity(cfg.instances[0]);
    for (let k = 0; k < n; k++) {
      const due = t0 + k * period;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const at = Date.now();
      const metrics = { ...agentMetrics(k + 1), "bench.sent_ms": at };
      await send(encode(id, [{ seq: k + 1, ts: at, metrics }], at));
      sent++;
      samples++;
    }
  }
  const sendMs = performance.now() - t0;
  emit({ sent, samples, refusals, sendMs } satisfies SenderResult);
  // Keep the socket open until the parent has seen everything arrive (stdin closes).
  while (!(await lines.next()).done) { /* ignore */ }
  push.close();
}

if (import.meta.main) await main();
