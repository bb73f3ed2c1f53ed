/**
 * Throughput: the raw ZMQ limit and the collector's ingest rate, with the same frames from
 * the same sender processes, measured the same way (a 10 ms poll of the received count).
 *
 * - raw: lib/transport/zmq.ts `bindPull` with an `onFrame` that only counts, in this process
 *   (with `parse`, it also decodes UTF-8 and `JSON.parse`s each frame: the least any JSON
 *   consumer does);
 * - collector: a real `startCollector` in this process (decode, instances, recent store,
 *   live hub) with one WebSocket reader connected from its own process; the count is
 *   `/api/stats` `received.messages`. With `history`, it runs as users run it: durable
 *   history in a fresh data directory, and the run ends when every point is on disk
 *   (`history.durable`), not when it was read; with `warmupFrames`, after an untimed first
 *   load on the same collector (a running collector, not a starting one).
 *
 * Each run also takes this process's CPU time (user + system, every thread: the history
 * Worker too) from `go` to the end, so CPU per sample compares receivers on a shared
 * machine better than wall time does.
 *
 * @module
 */
import process from "node:process";
import { bindPull } from "../lib/transport/zmq.ts";
import { startCollector } from "../lib/collector/collector.ts";
import { type Form, instanceNames } from "./frames.ts";
import { Child } from "./procs.ts";
import type { SenderConfig, SenderResult } from "./sender.ts";
import type { WsClientConfig, WsClientResult } from "./ws_client.ts";
import { cpuByKind, type ThreadKind, threadTimes } from "./threads.ts";

/** One throughput run's settings. */
export interface ThroughputOptions {
  form: Form;
  batchSize: number;
  /** Sender processes, each with its own PUSH socket. */
  senders: number;
  /** Frames each sender sends. */
  framesPerSender: number;
  /** Distinct instances, spread over the senders (each instance belongs to one sender). */
  instances: number;
  sendHwm: number;
  timeoutMs: number;
  /** Raw runs: distinct frames per sender, sent in a cycle (see SenderConfig.pool). */
  pool?: number;
  /** Raw runs: utf8-decode and JSON.parse every frame (the JSON peer). */
  parse?: boolean;
  /** Collector runs: durable history on (a temp data dir); done when every point is durable. */
  history?: boolean;
  /**
   * Collector runs: how often `/api/stats` is asked whether the run is done, ms (default 10).
   * Each ask is an HTTP request served, and made, in the measured process: at 10 ms it is
   * CPU the raw peers, which read a counter, do not spend.
   */
  pollMs?: number;
  /**
   * Collector runs: frames sent to the same collector, and waited for (durable with
   * `history`), before the timed run. A collector runs for days: its history Worker's code is
   * compiled, its SQLite file and instances exist. Without this, every run paid a fresh
   * Worker's module load and JIT warm-up, which a running collector pays once (default 0).
   */
  warmupFrames?: number;
}

/** Metrics per bench sample (frames.ts agentMetrics): points = samples x this. */
/** Points per sample of the bench's frames (frames.ts agentMetrics). */
export const METRICS_PER_SAMPLE = 4;

/** One run's outcome. */
export interface ThroughputRun {
  messages: number;
  samples: number;
  /** From `go` to the poll that saw the last frame counted, ms. */
  ms: number;
  messagesPerSec: number;
  samplesPerSec: number;
  /** Sum of trySend refusals (queue full): many means the receiver was the bottleneck. */
  refusals: number;
  /** Slowest sender's time to hand all its frames to ZMQ, ms. */
  senderMs: number;
  /** This process's CPU time (all threads) from `go` to the end, ms. */
  cpuMs: number;
  /** cpuMs per sample, in microseconds. */
  cpuUsPerSample: number;
  /** cpuMs by thread (bench/threads.ts), ms: where the CPU went. */
  threadMs: Record<ThreadKind, number>;
  /** Collector only: frames the WS reader got, frames the hub dropped, refused, lost. */
  wsFrames?: number;
  /** Collector only: longest event-loop stall seen by a 5 ms timer in its process, ms. */
  maxStallMs?: number;
  hubDropped?: number;
  /** Collector with history: points history shed (counted as done; should be 0). */
  historyDropped?: number;
  refused?: number;
  lost?: number;
}

const POLL_MS = 10;
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Start senders for `endpoint`, send, and time until `received()` reaches the total. */
async function drive(
  endpoint: string,
  o: ThroughputOptions,
  received: () => number | Promise<number>,
  pollMs = POLL_MS,
): Promise<Omit<ThroughputRun, "wsFrames" | "maxStallMs" | "hubDropped" | "refused" | "lost">> {
  const names = instanceNames(o.instances);
  const children: Child[] = [];
  try {
    for (let s = 0; s < o.senders; s++) {
      const cfg: SenderConfig = {
        endpoint,
        mode: "burst",
        instances: names.filter((_, i) => i % o.senders === s),
        form: o.form,
        batchSize: o.batchSize,
        frames: o.framesPerSender,
        sendHwm: o.sendHwm,
        pool: o.pool,
      };
      children.push(new Child("./sender.ts", cfg));
    }
    for (const c of children) await c.next<{ ready: true }>();
    await sleep(100); // let every PUSH socket finish connecting
    const total = o.senders * o.framesPerSender;
    const t0 = performance.now();
    const cpu0 = cpuNow();
    const threads0 = threadTimes();
    await Promise.all(children.map((c) => c.say("go")));
    const results = Promise.all(children.map((c) => c.next<SenderResult>()));
    let ms = NaN;
    while (true) {
      const n = await received();
      const t = performance.now() - t0;
      if (n >= total) {
        ms = t;
        break;
      }
      if (t > o.timeoutMs) throw new Error(`timed out: ${n} of ${total} frames after ${t} ms`);
      await sleep(pollMs);
    }
    const cpuMs = cpuNow() - cpu0;
    const threadMs = cpuByKind(threads0, threadTimes());
    const rs = await results;
    const samples = rs.reduce((n, r) => n + r.samples, 0);
    return {
      messages: total,
      samples,
      ms,
      messagesPerSec: total / (ms / 1000),
      samplesPerSec: samples / (ms / 1000),
      refusals: rs.reduce((n, r) => n + r.refusals, 0),
      senderMs: Math.max(...rs.map((r) => r.sendMs)),
      cpuMs,
      cpuUsPerSample: cpuMs * 1000 / samples,
      threadMs,
    };
  } finally {
    await Promise.all(children.map((c) => c.finish()));
  }
}

/** The raw limit: PUSH -> PULL with the collector's receive loop and a counting onFrame. */
export async function runRaw(o: ThroughputOptions): Promise<ThroughputRun> {
  let count = 0;
  const utf8 = new TextDecoder();
  let keys = 0;
  const pull = await bindPull("tcp://127.0.0.1:*", {
    onFrame: o.parse
      ? (frame) => {
        const v = JSON.parse(utf8.decode(frame));
        keys += v.v; // use the result, so the parse cannot be skipped
        count++;
      }
      : () => {
        count++;
      },
  });
  let run: ThroughputRun;
  try {
    run = await drive(pull.endpoint, o, () => count);
  } finally {
    await pull.close();
  }
  if (o.parse && keys !== count) throw new Error(`parsed ${keys} of ${count} frames`);
  return run;
}

interface StatsBody {
  received: { messages: number; samples: number };
  rejected: { total: number };
  lost: { total: number };
  live: { clients: number; droppedFrames: number };
  history: { durable: number; dropped: number };
}

/** The collector's ingest rate, with one WebSocket reader connected. */
export async function runCollector(o: ThroughputOptions): Promise<ThroughputRun> {
  const logs: string[] = [];
  const dir = o.history ? await Deno.makeTempDir({ prefix: "zeroapm-bench-" }) : null;
  const c = await startCollector({
    httpPort: 0,
    zmq: "tcp://127.0.0.1:*",
    dataDir: dir,
    log: (l) => logs.push(l),
  });
  const stats = async (): Promise<StatsBody> =>
    await (await fetch(`${c.httpUrl}/api/stats`)).json();
  /** What the collector had received and stored before a run: its count starts from here. */
  let base = { messages: 0, stored: 0 };
  /** Frames of this run received; with history, the last one counts once every point is stored. */
  const received = (s: StatsBody, frames: number, points: number) => {
    const messages = s.received.messages - base.messages;
    const stored = s.history.durable + s.history.dropped - base.stored;
    return !o.history || stored >= points ? messages : Math.min(messages, frames - 1);
  };
  const run = (framesPerSender: number) => {
    const frames = o.senders * framesPerSender;
    const points = frames * (o.form === "single" ? 1 : o.batchSize) * METRICS_PER_SAMPLE;
    return drive(
      c.zmqEndpoint,
      { ...o, framesPerSender },
      async () => received(await stats(), frames, points),
      o.pollMs,
    );
  };
  const ws = new Child("./ws_client.ts", { httpUrl: c.httpUrl, mode: "count" } as WsClientConfig);
  try {
    await ws.next<{ ready: true }>();
    if (o.warmupFrames) {
      await run(Math.ceil(o.warmupFrames / o.senders));
      const s = await stats();
      base = {
        messages: s.received.messages,
        stored: o.history ? s.history.durable + s.history.dropped : 0,
      };
    }
    let last = performance.now();
    let maxStallMs = 0;
    const tick = setInterval(() => {
      const t = performance.now();
      maxStallMs = Math.max(maxStallMs, t - last - 5);
      last = t;
    }, 5);
    const timed = await run(o.framesPerSender);
    clearInterval(tick);
    const s = await stats();
    if (s.live.clients !== 1) throw new Error(`expected 1 live client, found ${s.live.clients}`);
    const w = await ws.result<WsClientResult>();
    return {
      ...timed,
      wsFrames: w.frames,
      maxStallMs,
      hubDropped: s.live.droppedFrames,
      refused: s.rejected.total,
      lost: s.lost.total,
      historyDropped: o.history ? s.history.dropped : undefined,
    };
  } finally {
    ws.kill();
    await c.stop();
    if (dir) await Deno.remove(dir, { recursive: true });
    if (logs.length > 0) console.error(`collector log: ${logs.slice(0, 3).join(" | ")}`);
  }
}
