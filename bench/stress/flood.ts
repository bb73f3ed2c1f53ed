/**
 * A flood sender for bench/stress/overload.ts: `deno run -A bench/stress/flood.ts '<json>'`
 * with `{endpoint, instance, rateHz, durationMs}`. Sends single-sample frames paced at
 * `rateHz` (as fast as it can when that is beyond it) through lib/zmq.ts `connectPush`,
 * like an agent: a frame ZMQ will not take now (high-water mark) is dropped and counted,
 * never retried, so the offered load does not slow down to the collector's pace. Prints one
 * JSON line `{sent, refused, ms}` and exits.
 *
 * @module
 */
import { connectPush } from "../../lib/zmq.ts";
import { encode, type Identity } from "../../lib/protocol.ts";

const cfg = JSON.parse(Deno.args[0]) as {
  endpoint: string;
  instance: string;
  rateHz: number;
  durationMs: number;
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
  const frame = encode(id, [{ seq, ts, metrics: { "cpu.percent": seq % 100, "x.v": seq } }], ts);
  seq++;
  if (await push.trySend(frame)) sent++;
  else refused++; // the agent's backlog would hold it; here it is dropped, and counted
  if (seq % 256 === 0) await new Promise((r) => setTimeout(r, 0)); // let timers run
}
console.log(JSON.stringify({ sent, refused, ms: Math.round(performance.now() - t0) }));
await new Promise((r) => setTimeout(r, 200));
push.close();
