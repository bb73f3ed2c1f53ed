/**
 * Bytes the main isolate allocates per frame, by cumulative stage, in process (no sockets): the
 * stages of bench/ingest_breakdown.ts, counted exactly rather than timed. Garbage is what the
 * single-sample row pays beyond its own work: every byte is scavenged on the main thread and
 * again by V8's helper threads (docs/benchmarks-changes.md, stop 33 and 34).
 *
 * How: each stage's timed run of `frames` frames allocates less than the young generation holds
 * (a 128 MiB semi-space, set by the flags below), so no collection runs inside it, and the heap's
 * growth over it, after a full GC, is what it allocated. Each stage runs in its own process
 * (`stage` argument), so one stage's JIT feedback does not shape another's code.
 *
 *     deno run -A --v8-flags=--expose-gc,--min-semi-space-size=128,--max-semi-space-size=128 \
 *       bench/ingest_garbage.ts [single|batch] [stage]
 *
 * Without a stage it runs every stage, each in a child process, and prints bytes per frame
 * (median of 4 rounds, and all four).
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

/** The stages, cumulative as in bench/ingest_breakdown.ts. */
export const STAGES = [
  "utf8+JSON.parse",
  "decode()",
  "ingest, hub clients=0",
  "ingest, hub clients=1",
  "+ history",
  "+ alerts",
] as const;

const FLAGS = "--v8-flags=--expose-gc,--min-semi-space-size=128,--max-semi-space-size=128";

/** Bytes allocated per frame in each of 4 rounds of `stage` (this process: run with FLAGS). */
export async function garbagePerFrame(form: Form, stage: string): Promise<number[]> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error(`run with ${FLAGS}`);
  const at = STAGES.indexOf(stage as typeof STAGES[number]);
  if (at < 0) throw new Error(`unknown stage ${stage}`);
  const n = form === "single" ? 20_000 : 400; // ~40 MB at most: below the semi-space
  const turnFrames = form === "single" ? 1000 : 40; // a turn of the event loop (breakdown's)
  const names = Array.from({ length: 10 }, (_, i) => "i" + i);
  let start = Date.now() - 1e9;
  const out: number[] = [];
  for (let round = 0; round < 4; round++) {
    let turn: Array<() => void> = [];
    const endTurn = () => {
      ingest.flush(); // as the receive loop does before it yields
      const run = turn;
      turn = [];
      for (const fn of run) fn();
    };
    const now = Date.now;
    const hub = new Hub({
      now,
      hello: () => ({ type: "hello", now: 0, windowMs: 0, instances: [], series: {} }),
      nextTurn: (fn) => turn.push(fn),
    });
    if (at >= 3) hub.add({ readyState: 1, bufferedAmount: 0, send() {}, close() {} }, null);
    const dir = at >= 4 ? await Deno.makeTempDir({ prefix: "zeroapm-garbage-" }) : "";
    const history = at >= 4 ? await HistoryThread.open({ dir, now }) : null;
    const alerts = at >= 5 ? createAlertEngine({ rules: defaultRuleSet(), now }) : null;
    const ingest = createIngest({
      instances: new Instances(),
      recent: new RecentStore(),
      hub,
      stats: new CollectorStats({ now, log: () => {} }),
      now,
      history,
      alerts,
      staged: true, // as the collector runs it
    });
    const text = new TextDecoder();
    const f: (frame: Uint8Array) => unknown = at === 0
      ? (frame) => JSON.parse(text.decode(frame))
      : at === 1
      ? (frame) => decode(frame)
      : history
      ? (frame) => {
        history.backpressure();
        ingest(frame);
      }
      : ingest;
    const run = (frames: Uint8Array[]) => {
      for (let i = 0; i < frames.length; i++) {
        f(frames[i]);
        if (i % turnFrames === turnFrames - 1) endTurn();
      }
      endTurn();
    };
    // Warm-up: three runs (the JIT settles, rings and columns reach their sizes).
    for (let w = 0; w < 3; w++) {
      run(makeFrames(names, form, 100, n, start += 1000).frames);
      await history?.tick();
    }
    const { frames } = makeFrames(names, form, 100, n, start += 1000);
    gc();
    gc();
    const before = Deno.memoryUsage().heapUsed;
    run(frames);
    out.push((Deno.memoryUsage().heapUsed - before) / n);
    if (history) {
      await history.tick();
      await history.close();
      await Deno.remove(dir, { recursive: true });
    }
  }
  return out;
}

if (import.meta.main) {
  const form = (Deno.args[0] ?? "single") as Form;
  const only = Deno.args[1];
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  for (const stage of only ? [only] : STAGES) {
    let rounds: number[];
    if (only) rounds = await garbagePerFrame(form, stage);
    else {
      const child = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", FLAGS, new URL(import.meta.url).pathname, form, stage],
        stderr: "inherit",
      }).output();
      if (!child.success) Deno.exit(1);
      rounds = JSON.parse(new TextDecoder().decode(child.stdout).trim().split("\n").at(-1)!);
      console.log(
        stage.padEnd(24),
        median(rounds).toFixed(0).padStart(7),
        "B/frame   rounds",
        rounds.map((r) => r.toFixed(0)).join(" "),
      );
      continue;
    }
    console.log(JSON.stringify(rounds));
  }
}
