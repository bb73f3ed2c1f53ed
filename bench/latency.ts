/**
 * Agent -> WebSocket latency: one sender process pushes single-sample frames at a steady
 * rate, each carrying its send time (`Date.now()`) as the value of `bench.sent_ms`; a
 * WebSocket reader process on `/ws` records, per point, its receive time minus that value.
 * Same machine, same clock; `Date.now()` has 1 ms resolution.
 *
 * With `load`, other sender processes push batch frames from other instances at a steady
 * rate meanwhile (the collector busy, as at half its measured ceiling), and the collector
 * runs with durable history, as users run it. The run also reads the collector's own view
 * of the wait, `/api/stats` `queueDelayMs` (queueing delay at arrival, last minute).
 *
 * @module
 */
import { startCollector } from "../lib/collector/collector.ts";
import type { QueueDelaySummary } from "../lib/collector/queue_delay.ts";
import { type Form, instanceNames } from "./frames.ts";
import { Child } from "./procs.ts";
import type { SenderConfig, SenderResult } from "./sender.ts";
import type { WsClientConfig, WsClientResult } from "./ws_client.ts";

/** Background load during a latency run. */
export interface LatencyLoad {
  /** Frames per second over all load senders. */
  framesPerSec: number;
  senders: number;
  form: Form;
  batchSize: number;
  instances: number;
}

/** Latency run settings. */
export interface LatencyOptions {
  rateHz: number;
  durationMs: number;
  load?: LatencyLoad;
  /** Durable history on (a temp data dir). */
  history?: boolean;
}

/** Latency outcome: per-sample values in ms. */
export interface LatencyRun {
  sent: number;
  endToEnd: number[];
  toCollector: number[];
  /** The collector's queueing delay at arrival, over the run (its last minute). */
  queueDelay: QueueDelaySummary;
  /** Load frames sent, and load senders' trySend refusals (many: the collector fell behind). */
  loadFrames: number;
  loadRefusals: number;
}

/** Run the latency benchmark against a fresh collector. */
export async function runLatency(o: LatencyOptions): Promise<LatencyRun> {
  const dir = o.history ? await Deno.makeTempDir({ prefix: "zeroapm-lat-" }) : null;
  const c = await startCollector({
    httpPort: 0,
    zmq: "tcp://127.0.0.1:*",
    dataDir: dir,
    log: () => {},
  });
  const ws = new Child("./ws_client.ts", { httpUrl: c.httpUrl, mode: "latency" } as WsClientConfig);
  let sender: Child | null = null;
  const loaders: Child[] = [];
  try {
    await ws.next<{ ready: true }>();
    if (o.load) {
      const l = o.load;
      const names = instanceNames(l.instances).map((n) => `load-${n}`);
      // Enough frames for the run and a second either side; every frame is unique (seq).
      const perSender = Math.ceil(l.framesPerSec * (o.durationMs + 2000) / 1000 / l.senders);
      for (let s = 0; s < l.senders; s++) {
        const cfg: SenderConfig = {
          endpoint: c.zmqEndpoint,
          mode: "burst",
          instances: names.filter((_, i) => i % l.senders === s),
          form: l.form,
          batchSize: l.batchSize,
          frames: perSender,
          rateHz: l.framesPerSec / l.senders,
          sendHwm: 1000,
        };
        loaders.push(new Child("./sender.ts", cfg));
      }
      for (const x of loaders) await x.next<{ ready: true }>();
    }
    const cfg: SenderConfig = {
      endpoint: c.zmqEndpoint,
      mode: "paced",
      instances: ["latency"],
      form: "single",
      batchSize: 1,
      frames: 0,
      rateHz: o.rateHz,
      durationMs: o.durationMs,
      sendHwm: 1000,
    };
    sender = new Child("./sender.ts", cfg);
    await sender.next<{ ready: true }>();
    await new Promise((r) => setTimeout(r, 200)); // connected before the first frame
    await Promise.all(loaders.map((x) => x.say("go")));
    await new Promise((r) => setTimeout(r, loaders.length > 0 ? 1000 : 0)); // load is steady
    await sender.say("go");
    const s = await sender.next<SenderResult>();
    await new Promise((r) => setTimeout(r, 300)); // let the last frames reach the reader
    const w = await ws.result<WsClientResult>();
    const stats = await (await fetch(`${c.httpUrl}/api/stats`)).json();
    const loads = await Promise.all(loaders.map((x) => x.next<SenderResult>()));
    return {
      sent: s.sent,
      endToEnd: w.endToEnd,
      toCollector: w.toCollector,
      queueDelay: stats.queueDelayMs,
      loadFrames: loads.reduce((n, r) => n + r.sent, 0),
      loadRefusals: loads.reduce((n, r) => n + r.refusals, 0),
    };
  } finally {
    if (sender) await sender.finish();
    await Promise.all(loaders.map((x) => x.finish()));
    ws.kill();
    await c.stop();
    if (dir) await Deno.remove(dir, { recursive: true });
  }
}
