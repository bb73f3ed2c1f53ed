/**
 * In-process cost of ingest per frame, by stage (no sockets). `deno task bench` runs
 * {@link measureBreakdown} to explain the collector/raw ratio; by hand:
 * `deno run -A bench/ingest_breakdown.ts [batch|single]`.
 *
 * Stages are cumulative: `decode()` includes utf8+JSON.parse, `ingest` includes `decode()`,
 * `ingest (hub clients=1)` adds publishing to one live client (its frames serialised and
 * sent to a stub socket), and `+ history` hands every point to durable history as the
 * collector does (a real HistoryThread on a temp dir; this thread's side only: the buffer,
 * and handing it over when backpressure asks and at the end of the round; the Worker's
 * store runs beside it, untimed). The hub sends what ingest published once per turn of the
 * event loop; here a turn ends every `turnFrames` frames, about what the receive loop takes
 * in the 5 ms before it yields (lib/transport/zmq.ts) at the speeds measured here. The last
 * stage, `+ alerts`, also feeds every sample to an alert engine with the default rules, as
 * the collector does. Ingest holds single frames as the collector's does (`staged`, handed on
 * at the end of each turn, as the receive loop does before it yields).
 *
 * @module
 */
import { type Form, makeFrames } from "./frames.ts";
import { decode } from "../lib/protocol.ts";
import { createIngest } from "../lib/collector/ingest.ts";
import { Instances } from "../lib/collector/instances.ts";
import { RecentStore } from "../lib/store/recent.ts";
import { CollectorStats } from "../lib/collector/stats.ts";
import { Hub } from "../lib/live/hub.ts";
import { HistoryThread } from "../lib/collector/history.ts";
import { createAlertEngine, defaultRuleSet } from "../lib/alerts/mod.ts";

/** One stage's cost. */
export interface Stage {
  stage: string;
  usPerFrame: number;
  samplesPerSec: number;
  /**
   * This thread's CPU time per frame (best round), µs; NaN where the OS does not tell it.
   * On a shared machine it moves far less than the wall time: time waiting for a core is
   * not in it.
   */
  cpuUsPerFrame?: number;
}

/**
 * CPU time this thread has run, ms (Linux: /proc/thread-self/schedstat, ns), or NaN. Read
 * synchronously, so on the calling thread.
 */
function threadCpuMs(): number {
  try {
    return Number(Deno.readTextFileSync("/proc/thread-self/schedstat").split(" ")[0]) / 1e6;
  } catch {
    return NaN;
  }
}

/** Time each stage over `frames` pre-encoded frames (best of `rounds`, after a warm-up). */
export async function measureBreakdown(
  form: Form,
  batchSize = 100,
  frameCount = form === "batch" ? 3000 : 200_000,
  rounds = 3,
): Promise<Stage[]> {
  const out: Stage[] = [];
  // Frames per turn of the event loop: ~5 ms of frames (see the module doc).
  const turnFrames = form === "batch" ? 40 : 1000;
  const time = async (
    stage: string,
    make: () => (f: Uint8Array) => void,
    endTurn: () => void = () => {},
    round?: { before(): Promise<void>; end(): void; after(): Promise<void> },
  ) => {
    let best = Infinity;
    let bestCpu = Infinity;
    let frames: Uint8Array[] = [];
    let samples = 0;
    for (let r = 0; r <= rounds; r++) {
      // Fresh frames (and a fresh collector) each round, so seq numbers are never duplicates.
      ({ frames, samples } = makeFrames(
        Array.from({ length: 10 }, (_, i) => "i" + i),
        form,
        batchSize,
        frameCount,
      ));
      await round?.before();
      const f = make();
      const t = performance.now();
      const c = threadCpuMs();
      for (let i = 0; i < frames.length; i++) {
        f(frames[i]);
        if (i % turnFrames === turnFrames - 1) endTurn();
      }
      endTurn();
      round?.end();
      const ms = performance.now() - t;
      const cpu = threadCpuMs() - c;
      await round?.after();
      if (r > 0) { // round 0 warms the JIT
        best = Math.min(best, ms);
        bestCpu = Math.min(bestCpu, cpu);
      }
    }
    out.push({
      stage,
      usPerFrame: best / frames.length * 1000,
      samplesPerSec: samples / (best / 1000),
      cpuUsPerFrame: bestCpu / frames.length * 1000,
    });
  };
  await time("utf8+JSON.parse", () => {
    const d = new TextDecoder();
    return (f) => JSON.parse(d.decode(f));
  });
  await time("decode() (parse + validate)", () => (f) => decode(f));
  const stages = [[0, false, false], [1, false, false], [1, true, false], [1, true, true]] as const;
  for (const [clients, durable, alerting] of stages) {
    let turn: Array<() => void> = [];
    /** The round's ingest's flush: held single frames go on before the turn ends. */
    let flush = () => {};
    const endTurn = () => {
      flush(); // as the receive loop does before it yields (lib/transport/zmq.ts beforeWait)
      const run = turn;
      turn = [];
      for (const fn of run) fn();
    };
    let history: HistoryThread | null = null;
    let dir = "";
    let ticked: Promise<void> = Promise.resolve();
    const round = {
      before: async () => {
        dir = await Deno.makeTempDir({ prefix: "zeroapm-breakdown-" });
        history = await HistoryThread.open({ dir, now: Date.now });
      },
      // The last hand-over of the round, timed; the thread's work is not waited for.
      end: () => ticked = history!.tick(),
      after: async () => {
        await ticked;
        await history!.close();
        await Deno.remove(dir, { recursive: true });
      },
    };
    const name = `ingest, hub clients=${clients}${durable ? " + history" : ""}${
      alerting ? " + alerts" : ""
    }`;
    await time(
      name,
      () => {
        const now = Date.now;
        const instances = new Instances();
        const recent = new RecentStore();
        const stats = new CollectorStats({ now, log: () => {} });
        const hub = new Hub({
          now,
          hello: () => ({ type: "hello", now: 0, windowMs: 0, instances: [], series: {} }),
          nextTurn: (fn) => turn.push(fn), // run by endTurn (no timers in this synchronous run)
        });
        if (clients) {
          hub.add({ readyState: 1, bufferedAmount: 0, send() {}, close() {} }, null);
        }
        const staged = true; // as the collector runs it
        if (!durable) {
          const ingest = createIngest({ instances, recent, hub, stats, now, staged });
          flush = ingest.flush;
          return ingest;
        }
        const h = history!;
        // The default rules, as a collector without --rules has (no store, no webhooks).
        const alerts = alerting ? createAlertEngine({ rules: defaultRuleSet(), now }) : null;
        const ingest = createIngest({
          instances,
          recent,
          hub,
          stats,
          now,
          history: h,
          alerts,
          staged,
        });
        flush = ingest.flush;
        // As the receive loop does: ask before each frame (at the bound it hands the buffer over).
        return (f) => {
          h.backpressure();
          ingest(f);
        };
      },
      endTurn,
      durable ? round : undefined,
    );
  }
  return out;
}

if (import.meta.main) {
  // `[batch|single] [rounds]`: more rounds (best of) for A/B comparisons on a noisy machine.
  const form = (Deno.args[0] ?? "batch") as Form;
  const rounds = Number(Deno.args[1] ?? 3);
  for (const s of await measureBreakdown(form, 100, undefined, rounds)) {
    console.log(
      s.stage.padEnd(30),
      s.usPerFrame.toFixed(2),
      "us/frame",
      (s.samplesPerSec / 1e3).toFixed(0),
      "k samples/s",
      s.cpuUsPerFrame!.toFixed(2),
      "us/frame of this thread's CPU",
    );
  }
}
