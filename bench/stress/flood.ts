/**
 * A flood sender for bench/stress/overload.ts: `deno run -A bench/stress/flood.ts '<json>'`
 * with `{endpoint, instance, rateHz, durationMs, form?, batch?, instances?}`. Sends frames
 * paced at `rateHz` frames/s (as fast as it can when that is beyond it) through lib/transport/zmq.ts
 * `connectPush`, like an agent: a frame ZMQ will not take now (high-water mark) is dropped
 * and counted, never retried, so the offered load does not slow down to the collector's pace.
 * Prints one JSON line `{sent, refused, ms, samples}` and exits.
 *
 * `form: "single"` (default): one-sample frames from one instance, encoded per frame.
 * `form: "batch"`: `batch`-sample frames (default 100, the agent's batch) round-robin from
 * `instances` instances (`<instance>-<k>`), each instance's seq counting up without gaps.
 * Encoding 13 KB of JSON per frame would cost the sender more than the collector spends
 * decoding it, so each instance's frame is encoded once with 8-digit seqs and only the seq
 * digits are rewritten per frame (the bytes are the same as `encode()` would produce).
 *
 * @module
 */
import { connectPush } from "../../lib/transport/zmq.ts";
import { encode, type Identity, type OutgoingSample } from "../../lib/protocol.ts";
import { agentMetrics } from "../frames.ts";

const cfg = JSON.parse(Deno.args[0]) as {
  endpoint: string;
  instance: string;
  rateHz: number;
  durationMs: number;
  form?: "single" | "batch";
  batch?: number;
  instances?: number;
};
const push = connectPush(cfg.endpoint, { sendHighWaterMark: 1000, lingerMs: 0 });
const id: Identity = {
  service: "flood",
  instance: cfg.instance,
  pid: Deno.pid,
  host: "stress",
  color: null,
  intervalMs: 1000,
};

/** Batch form: per instance, a template frame and the byte offsets of its seq digits. */
const SEQ_BASE = 10_000_000; // every seq of a run has 8 digits (checked below)
const SEQ_DIGITS = 8;
const batch = cfg.batch ?? 100;
const templates = cfg.form === "batch"
  ? Array.from({ length: cfg.instances ?? 4 }, (_, k) => {
    const ts = Date.now();
    const samples: OutgoingSample[] = Array.from(
      { length: batch },
      (_, j) => ({ seq: SEQ_BASE + j, ts, metrics: agentMetrics(j) }),
    );
    const bytes = encode({ ...id, instance: `${cfg.instance}-${k}` }, samples, ts);
    const key = new TextEncoder().encode('"seq":');
    const at: number[] = [];
    for (let i = 0; i < bytes.length - key.length; i++) {
      let m = true;
      for (let c = 0; c < key.length && m; c++) m = bytes[i + c] === key[c];
      if (m) at.push(i + key.length);
    }
    if (at.length !== batch) throw new Error(`found ${at.length} seqs, expected ${batch}`);
    return { bytes, at, next: SEQ_BASE };
  })
  : [];

/** The next batch frame of instance `k`: its template with seqs next..next+batch-1. */
function batchFrame(k: number): Uint8Array {
  const t = templates[k];
  if (t.next + batch > 10 ** SEQ_DIGITS) throw new Error("seq outgrew 8 digits");
  const out = t.bytes.slice(); // a fresh buffer per frame: ZMQ may still hold the last one
  for (let j = 0; j < batch; j++) {
    let v = t.next + j;
    for (let d = t.at[j] + SEQ_DIGITS - 1; d >= t.at[j]; d--) {
      out[d] = 48 + (v % 10);
      v = Math.floor(v / 10);
    }
  }
  t.next += batch;
  return out;
}

const t0 = performance.now();
let sent = 0;
let refused = 0;
let seq = 0;
const period = 1000 / cfg.rateHz;
while (performance.now() - t0 < cfg.durationMs) {
  const due = t0 + seq * period;
  const wait = due - performance.now();
  if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  const ts = Date.now();
  const frame = cfg.form === "batch"
    ? batchFrame(seq % templates.length)
    : encode(id, [{ seq, ts, metrics: { "cpu.percent": seq % 100, "x.v": seq } }], ts);
  seq++;
  if (await push.trySend(frame)) sent++;
  else refused++; // the agent's backlog would hold it; here it is dropped, and counted
  if (seq % 256 === 0) await new Promise((r) => setTimeout(r, 0)); // let timers run
}
const samples = cfg.form === "batch" ? batch : 1;
console.log(JSON.stringify({ sent, refused, ms: Math.round(performance.now() - t0), samples }));
await new Promise((r) => setTimeout(r, 200));
push.close();
