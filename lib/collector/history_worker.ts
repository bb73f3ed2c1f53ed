/**
 * The history thread: a Worker that owns the durable store (lib/store/durable.ts), so its
 * SQLite writes, seal rounds and retention never run on the thread that serves HTTP and
 * drains the ZMQ socket. Started by {@link HistoryThread} (history.ts), which documents the
 * messages. The collector's clock comes with every message (tests inject one).
 *
 * @module
 */
import { DurableStore } from "../store/durable.ts";
import { flattenPoints } from "../store/query.ts";
import type { HistoryReply, HistoryRequest } from "./history.ts";
import { eachSeries } from "./history_batch.ts";
import type { RemoteWriter } from "../remote/writer.ts";
import { errorMessage } from "../errors.ts";

interface WorkerScope {
  onmessage: ((e: MessageEvent<HistoryRequest>) => void) | null;
  postMessage(message: HistoryReply, transfer?: Transferable[]): void;
}
const scope = globalThis as unknown as WorkerScope;

let clock = 0;
let store: DurableStore | null = null;
/** Remote write, one writer per remote, each reading the WAL from its own cursor. */
let writers: RemoteWriter[] = [];
/** Each instance's dashboard colour, from the views it was handed (remote write sends it). */
const colors = new Map<string, string>();
/** Time columns handed over so far: each block's gets the next number (DurableStore.appendMany). */
let timeColumns = 0;

const message = (e: unknown) => errorMessage(e);

scope.onmessage = async (e) => {
  const m = e.data;
  clock = m.now;
  switch (m.type) {
    case "open": {
      const warnings: string[] = [];
      try {
        store = DurableStore.open({
          dir: m.dir,
          now: () => clock,
          retention: m.retention,
          maxDiskBytes: m.maxDiskBytes,
          sealEveryMs: m.sealEveryMs,
          remotes: (m.remoteWrite ?? []).map((r) => r.url),
          report: (line) => warnings.push(line),
        });
        if (m.remoteWrite?.length) {
          // Loaded only when asked for: the protobuf and snappy libraries cost start-up time.
          const { startWalRemoteWrite } = await import("../remote/wal_write.ts");
          for (const v of store.instances()) colors.set(v.id, v.color);
          writers = startWalRemoteWrite(m.remoteWrite, store, {
            now: () => clock,
            colorOf: (instance) => colors.get(instance) ?? null,
            log: (line) => scope.postMessage({ type: "log", line }),
          });
        }
        scope.postMessage({
          type: "opened",
          retention: store.retention,
          instances: store.instances(),
          warnings,
        });
      } catch (err) {
        const error = [...warnings, message(err)].join("; ");
        scope.postMessage({ type: "opened", error });
      }
      return;
    }
    case "batch": {
      const s = store!;
      let error: string | undefined;
      for (const block of m.blocks) {
        const instance = block[0];
        // One series lookup per block; a frame's series share its time column (no copy here),
        // and say so with the column's id: the flush stores it once without comparing.
        const id = ++timeColumns;
        eachSeries(block, (metric, times, values) => {
          try {
            s.appendMany(instance, metric, times, values, id);
          } catch (err) {
            error ??= message(err); // a full disk: the rest of the batch still goes to memory
          }
        });
      }
      for (const [view, lastSeq, agentStart] of m.touched) {
        s.touch(view, lastSeq, agentStart);
        colors.set(view.id, view.color);
      }
      if (m.tick) {
        try {
          s.tick();
        } catch (err) {
          error ??= message(err);
        }
      }
      const shed = s.shedFrom();
      const remote = m.tick ? writers.map((w) => w.stats()) : undefined;
      scope.postMessage({
        type: "done",
        id: m.id,
        points: m.points,
        dropped: s.dropped,
        shed,
        error,
        remote,
      });
      return;
    }
    case "query": {
      try {
        const { tier, bucketMs, points } = store!.query(
          m.instance,
          m.metric,
          m.from,
          m.to,
          m.points,
        );
        const flat = flattenPoints(points);
        scope.postMessage({ type: "answer", id: m.id, tier, bucketMs, flat }, [flat.buffer]);
      } catch (err) {
        scope.postMessage({ type: "answer", id: m.id, error: message(err) });
      }
      return;
    }
    case "hold": {
      // Tests: stand still (like a stalled disk) until the other side stores 1 and notifies.
      Atomics.wait(new Int32Array(m.flag), 0, 0);
      return;
    }
    case "close": {
      let error: string | undefined;
      // Ship what is flushed for up to 2 s, then stop: the rest stays in the WAL for the next
      // start (a collector that is not started again would otherwise keep its last second).
      try {
        store?.flush();
      } catch { /* said by close() below */ }
      await Promise.all(writers.map((w) => w.finish(2000)));
      writers = [];
      try {
        store?.close();
      } catch (err) {
        error = message(err);
      }
      store = null;
      scope.postMessage({ type: "closed", error });
      return;
    }
  }
};
