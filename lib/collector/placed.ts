/**
 * What the instance registry (instances.ts) makes of a message for ingest: its samples placed
 * on the collector's clock, one object each, or, for a batch decoded to columns
 * (Message.columns), its times in a column beside the decoder's values. The objects are
 * reused from message to message (see {@link Observation}).
 *
 * @module
 */
import type { InstanceView } from "../model/instance.ts";
import type { Message } from "../protocol.ts";

/** A sample accepted for storage, placed on the collector's clock. */
export interface PlacedSample {
  t: number;
  metrics: Record<string, number>;
}

/**
 * A uniform batch's samples, on the collector's clock, as columns (see Message.columns):
 * `times[r]` is row r's time for `r < rows`, and the value of `keys[j]` in row r is
 * `values[j * rows + r]`. Both arrays are reused: read them before the next message.
 */
export interface PlacedColumns {
  rows: number;
  times: Float64Array;
  values: Float64Array;
}

/** What {@link Instances.observe} made of a message it took. */
export interface Observed {
  ok: true;
  id: string;
  /** The instance's view (live: see {@link Instances.get}), so ingest looks it up not again. */
  view: InstanceView;
  samples: PlacedSample[];
  created: boolean;
  changed: boolean;
  /** Every sample's metrics holds exactly these keys in this order (Message.keys). */
  keys: readonly string[] | undefined;
  /**
   * With `keys`, for a batch that came with Message.columns and lost no sample as a
   * duplicate: its points, as columns, and then `samples` is empty (no object is made per
   * sample).
   */
  columns: PlacedColumns | undefined;
  /** The instance's last sequence number and agent start (see Instances.lastSeq, agentStart). */
  lastSeq: number | null;
  agentStart: number | null;
}

/**
 * What {@link Instances.observe} made of one message. An {@link Observed} is one object an
 * Instances fills again on every call, and so is a one-sample message's `samples` (its array
 * and its sample): read them before the next call, copy to keep. Single-sample frames at tens
 * of thousands a second made ~200 bytes of garbage each with fresh ones (stop 34).
 */
export type Observation = Observed | { ok: false; reason: "instance_limit" };

/** The refusal {@link Instances.observe} returns at the instance limit. */
export const INSTANCE_LIMIT: Observation = Object.freeze({
  ok: false,
  reason: "instance_limit",
});

/** A blank {@link Observed}, for an Instances to fill call after call. */
export function blankObserved(): Observed {
  return {
    ok: true,
    id: "",
    view: null as unknown as InstanceView,
    samples: [],
    created: false,
    changed: false,
    keys: undefined,
    columns: undefined,
    lastSeq: null,
    agentStart: null,
  };
}

/** Observation.samples of a batch with columns: none (its points are in the columns). */
export const NO_SAMPLES = Object.freeze([]) as unknown as PlacedSample[];

/**
 * The samples of an observation with columns (Observation.columns, of `message`) as placed
 * samples, for a caller that needs them one by one.
 */
export function placedSamples(message: Message, columns: PlacedColumns): PlacedSample[] {
  return placedOf(message, columns.times, columns.rows);
}

/** The first `count` samples of `message` as placed samples, at `times` (a batch's columns). */
export function placedOf(message: Message, times: Float64Array, count: number): PlacedSample[] {
  const out: PlacedSample[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = { t: times[i], metrics: message.samples[i].metrics };
  return out;
}
