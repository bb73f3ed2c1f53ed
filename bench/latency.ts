/**
 * Agent -> WebSocket latency: one sender process pushes single-sample frames at a steady
 * rate, each carrying its send time (`Date.now()`) as the value of `bench.sent_ms`; a
 * WebSocket reader process on `/ws` records, per point, its receive time minus that value.
 * Same machine, same clock; `Date.now()` has 1 ms resolution.
 *
 * @module
 */
import { startCollector } from "../lib/collector/collector.ts";
import { Child } from "./procs.ts";
import type { SenderConfig, SenderResult } from "./sender.ts";
import type { WsClientConfig, WsClientResult } from "./ws_client.ts";

/** Latency run settings. */
export interface LatencyOptions {
  rateHz: number;
  durationMs: number;
}

/** Latency outcome: per-sample values in ms. */
export interface LatencyRun {
  sent: number;
  endToEnd: number[];
  toCollector: number[];
}

/** Run the latency benchmark against a fresh collector. */
export async function runLatency(o: LatencyOptions): Promise<LatencyRun> {
  const c = await startCollector({ httpPort: 0, zmq: "tcp://127.0.0.1:*", log: () => {} });
  const ws = new Child("./ws_client.ts", { httpUrl: c.httpUrl, mode: "latency" } as WsClientConfig);
  let sender: Child | null = null;
  try {
    await ws.next<{ ready: true }>();
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
    await sender.say("go");
    const s = await sender.next<SenderResult>();
    await new Promise((r) => setTimeout(r, 300)); // let the last frames reach the reader
    const w = await ws.result<WsClientResult>();
    return { sent: s.sent, endToEnd: w.endToEnd, toCollector: w.toCollector };
  } finally {
    if (sender) await sender.finish();
    ws.kill();
    await c.stop();
  }
}
