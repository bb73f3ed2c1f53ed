/**
 * Remote write for a collector with a data directory: one {@link RemoteWriter} per target,
 * each reading the history WAL from its own persisted cursor ({@link WalSource}). Runs on the
 * history thread, which owns the store; loaded there only when a remote is configured, so a
 * collector without one never loads the protobuf and snappy libraries.
 *
 * @module
 */
import type { DurableStore } from "../store/durable.ts";
import type { RemoteTarget } from "../collector/history.ts";
import { RemoteWriter } from "./writer.ts";
import { WalSource } from "./wal_source.ts";

/** Start a writer per target over `store`'s WAL. */
export function startWalRemoteWrite(
  targets: RemoteTarget[],
  store: DurableStore,
  opts: {
    now: () => number;
    log: (line: string) => void;
    colorOf?(instance: string): string | null;
  },
): RemoteWriter[] {
  const writers = targets.map((r) =>
    new RemoteWriter({
      url: r.url,
      headers: r.headers,
      source: new WalSource({
        name: r.url,
        wal: store.wal(),
        now: opts.now,
        maxAgeMs: store.retention.rawMs,
      }),
      now: opts.now,
      log: opts.log,
      colorOf: opts.colorOf,
    })
  );
  for (const w of writers) w.start();
  return writers;
}
