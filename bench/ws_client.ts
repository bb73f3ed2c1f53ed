/**
 * A dashboard stand-in, as its own process: `deno run -A bench/ws_client.ts '<config>'`.
 * It opens `/ws`, prints `{"ready":true}` after the hello, reads every frame, and when stdin
 * closes prints one JSON result line.
 *
 * - `count`: counts frames and bytes without parsing them (a reader that keeps up, at the
 *   least CPU cost, so it takes as little as possible from the collector on a small machine).
 * - `latency`: parses `samples` frames and, for each point of `bench.sent_ms` (whose value
 *   is the sender's clock at send time), records receive time minus send time, and the
 *   collector's placement time minus send time (the ingest part of it).
 *
 * @module
 */
import { readLines } from "./procs.ts";
import type { SamplesFrame } from "../lib/live/messages.ts";
import { samplesPoints } from "../lib/live/samples.ts";
import { decodeMessage } from "../lib/live/wire.ts";

/** What the parent asks. */
export interface WsClientConfig {
  httpUrl: string;
  mode: "count" | "latency";
}

/** The result line. */
export interface WsClientResult {
  frames: number;
  bytes: number;
  /** latency mode: end-to-end (WS receive - send), and collector placement - send, ms. */
  endToEnd: number[];
  toCollector: number[];
}

const METRIC = "bench.sent_ms";

async function main() {
  const cfg = JSON.parse(Deno.args[0]) as WsClientConfig;
  const ws = new WebSocket(`${cfg.httpUrl.replace(/^http/, "ws")}/ws`);
  ws.binaryType = "arraybuffer"; // turns with samples are binary (lib/live/wire.ts)
  const res: WsClientResult = { frames: 0, bytes: 0, endToEnd: [], toCollector: [] };
  let hello!: () => void;
  const gotHello = new Promise<void>((r) => hello = r);
  ws.onmessage = (e) => {
    const at = Date.now();
    const data = e.data as string | ArrayBuffer;
    if (res.frames++ === 0) return hello();
    // Text: characters (JSON frames are ASCII but for names); binary: bytes.
    res.bytes += typeof data === "string" ? data.length : data.byteLength;
    if (cfg.mode !== "latency") return;
    // Only samples are parsed (they come binary): a page that keeps up, not a slow reader.
    if (typeof data === "string") return;
    for (const f of decodeMessage(data) ?? []) {
      if ((f as SamplesFrame).type !== "samples") continue;
      for (const [t, sent] of samplesPoints(f as SamplesFrame)[METRIC] ?? []) {
        res.endToEnd.push(at - sent);
        res.toCollector.push(t - sent);
      }
    }
  };
  ws.onerror = () => console.error("ws_client: websocket error");
  await gotHello;
  console.log(JSON.stringify({ ready: true }));
  for await (const _ of readLines(Deno.stdin.readable)) { /* wait for stdin to close */ }
  console.log(JSON.stringify(res));
  ws.close();
}

if (import.meta.main) await main();
