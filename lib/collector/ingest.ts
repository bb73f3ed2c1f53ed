/**
 * Ingest: the one path every frame takes. Decode and validate once, account the instance,
 * place samples on the collector clock, keep them in the recent window and publish them
 * live. A bad frame is counted and logged (rate-limited) and never stops collection.
 *
 * @module
 */
import { decodeFrame, FrameColumns, isRefusal, type Message } from "../protocol.ts";
import { decodeHeapProfile, isHeapProfileFrame } from "../protocol_profile.ts";
import { instanceId, type Instances } from "./instances.ts";
import { type Observed, type PlacedColumns, type PlacedSample, placedSamples } from "./placed.ts";
import type { ProfileStore } from "./profiles.ts";
import type { CollectorStats } from "./stats.ts";
import type { RecentStore, Ring } from "../store/recent.ts";
import type { Hub } from "../live/hub.ts";
import type { InstanceView } from "../live/messages.ts";
import type { SamplesColumns } from "../live/samples.ts";
import { Staged } from "./staged.ts";
import type { AlertEngine } from "../alerts/mod.ts";

/** Where ingest hands points for durable history (the SQLite store, or nothing). */
export interface HistorySink {
  /** One point (ingest's general path: new series, refusals, derived series). */
  append(instance: string, metric: string, t: number, v: number): void;
  /**
   * A frame at once (ingest's usual path): every sample's `metrics` holds exactly `keys`, in
   * this order (Message.keys), so a sink need not look anything up per point.
   */
  appendFrame(instance: string, keys: readonly string[], samples: readonly PlacedSample[]): void;
  /**
   * A batch's points as columns (Observation.columns): the value of `keys[j]` at `times[r]`
   * is `values[j * rows + r]`, for `r < rows`. Copied: the arrays are reused after the call.
   */
  appendColumns(
    instance: string,
    keys: readonly string[],
    times: Float64Array,
    values: Float64Array,
    rows: number,
  ): void;
  /**
   * Remember an instance's view, with its last sequence number and agent start time, so a
   * restarted collector counts a gap across the restart as loss (see Instances.restore).
   */
  touch(view: InstanceView, lastSeq?: number | null, agentStart?: number | null): void;
}

/** What ingest writes to. */
export interface IngestDeps {
  instances: Instances;
  recent: RecentStore;
  hub: Hub;
  stats: CollectorStats;
  now: () => number;
  /** Durable history, when the collector has a data directory. */
  history?: HistorySink | null;
  /** The alert engine, fed every accepted sample. */
  alerts?: AlertEngine | null;
  /** Where heap-profile frames go (absent: they are refused as `bad_profile`). */
  profiles?: ProfileStore | null;
  /** Most metric series per instance; new names beyond it are refused (default 512). */
  maxSeriesPerInstance?: number;
  /**
   * Most metric series over all instances; new ones beyond it are refused as `series_limit`
   * (default 100 000). Without it, 10 000 instances x 512 series could hold 5 million rings.
   */
  maxSeriesTotal?: number;
  /**
   * Hold a known instance's usual single frames until {@link Ingest.flush} (staged.ts): the
   * caller must flush before anything else may read what ingest wrote (the collector's
   * receive loop does, before it yields). Off: every frame is written through at once.
   */
  staged?: boolean;
}

/**
 * The frame handler `(frame) => void`, safe to call with any bytes, and `accept(message)`
 * for a message another decoder made (OTLP, lib/otlp): both go the same way from there.
 */
export type Ingest = ((frame: Uint8Array | string) => void) & {
  /**
   * Take one decoded message; returns how many of its values were refused (a new instance
   * over the limit refuses them all, a new series over a series limit refuses its values).
   */
  accept(message: Message): number;
  /** Hand on the frames held (IngestDeps.staged) to the rings, page, history and alerts. */
  flush(): void;
};

/** Build the ingest path (see {@link Ingest}). */
export function createIngest(deps: IngestDeps): Ingest {
  const { instances, recent, hub, stats, now } = deps;
  const history = deps.history ?? null;
  const maxSeries = deps.maxSeriesPerInstance ?? 512;
  const maxTotal = deps.maxSeriesTotal ?? 100_000;
  /** The rings ringsOf found last for each instance's series (see {@link RingsSeen}). */
  const ringsSeen: RingsSeen = new WeakMap();

  /** A heap-profile frame: decoded on its own rules, kept for a known instance only. */
  const ingestProfile = (frame: Uint8Array | string) => {
    const d = decodeHeapProfile(frame);
    const refuse = (detail: string) => {
      deps.profiles?.refused();
      stats.refuse("bad_profile", detail);
    };
    if (!d.ok) return refuse(`${d.error.reason}: ${d.error.detail}`);
    const id = instanceId(d.profile.service, d.profile.instance);
    if (!deps.profiles) return refuse(`${id}: this collector keeps no profiles`);
    if (!instances.get(id)) return refuse(`profile from unknown instance ${id}`);
    const put = deps.profiles.put(id, d.profile);
    if (!put.ok) stats.refuse("bad_profile", put.reason);
  };

  /** What the decoder fills for a uniform batch (Message.columns), reused frame to frame. */
  const frameColumns = new FrameColumns();

  const ingest = (frame: Uint8Array | string) => {
    stats.bytes += typeof frame === "string" ? frame.length : frame.byteLength;
    if (isHeapProfileFrame(frame)) return ingestProfile(frame);
    const decoded = decodeFrame(frame, frameColumns);
    if (isRefusal(decoded)) {
      stats.refuse(decoded.reason, decoded.detail);
      return;
    }
    accept(decoded);
  };

  /** Each instance's held rows (staged.ts), kept with its view; those holding rows now. */
  const lanes = new WeakMap<InstanceView, Staged>();
  let held: Staged[] = [];
  const staging = deps.staged === true;

  /** One instance's held rows, as a batch's columns. */
  const handOn = (lane: Staged) => {
    const rows = lane.rows;
    if (rows === 0) return;
    const values = lane.packed();
    const { keys, times, view } = lane;
    const id = view.id;
    columnsIn(id, keys, { times, values, rows }, lane.rings, hub.samplesSoon(id, lane.arrival));
    instances.latestFrom(id, keys, values, rows - 1, rows);
    history?.touch(view, lane.lastSeq, lane.agentStart);
    deps.alerts?.observeColumns(view, keys, times, values, rows);
    lane.clear();
  };

  const flush = () => {
    if (held.length === 0) return;
    const lanes = held;
    held = [];
    for (let i = 0; i < lanes.length; i++) handOn(lanes[i]);
  };

  /**
   * Hold a single frame's row (the usual one: a known instance, the series it had, nothing to
   * publish); false when it is not such a frame. After observe, so it is already accounted.
   */
  const hold = (obs: Observed, arrival: number): boolean => {
    if (obs.created || obs.changed) return false;
    if (obs.keys === undefined || obs.samples.length !== 1) return false;
    const rings = ringsOf(recent.seriesOf(obs.id), obs.keys, ringsSeen);
    if (rings === null) return false;
    const view = obs.view;
    let lane = lanes.get(view);
    if (lane === undefined) lanes.set(view, lane = new Staged(view));
    else if (lane.rows > 0 && (lane.keys !== obs.keys || lane.rings !== rings)) handOn(lane);
    if (lane.rows === 0) {
      lane.begin(obs.keys, rings);
      held.push(lane);
    }
    lane.arrival = arrival;
    lane.lastSeq = obs.lastSeq;
    lane.agentStart = obs.agentStart;
    if (lane.add(obs.samples[0].t, frameColumns.values)) handOn(lane);
    return true;
  };

  const accept = (message: Message): number => {
    // A single frame that may be held: its latest values are written when it is handed on.
    const later = staging && message === frameColumns.single;
    // Anything else goes after the rows held (each instance's points and latest in order), as
    // at the instance cap, where observe may evict an instance.
    if (held.length > 0 && (!later || instances.size >= instances.maxInstances)) flush();
    const arrival = now();
    const obs = instances.observe(message, arrival, later);
    if (!obs.ok) {
      const { service, instance } = message.identity;
      stats.refuse(obs.reason, `new instance ${service}/${instance} over the instance limit`);
      let values = 0;
      for (const s of message.samples) values += Object.keys(s.metrics).length;
      return values;
    }
    const view = obs.view;
    // Queueing delay at arrival: the send time on the collector's clock vs now (queue_delay.ts).
    stats.queueDelay.observe(arrival - message.sent - view.clockOffsetMs, arrival);
    let refused = 0;
    // Not obs.samples' length: with columns, reading `samples` would build it.
    const count = obs.columns ? obs.columns.rows : obs.samples.length;
    stats.messages++;
    stats.samples += count;
    if (later) {
      if (hold(obs, arrival)) return 0;
      if (held.length > 0) flush(); // not held: after the rows that were
      if (obs.samples.length === 1) instances.latestOf(obs.id, obs.samples[0].metrics, obs.keys);
    }
    // Sent once per turn of the event loop with the other frames of that turn (hub.ts), and
    // before this message's samples: the page learns of a new instance before its points.
    if (obs.created || obs.changed) {
      hub.publishSoon({ type: "instance", now: arrival, instance: view });
    }
    // The instance's live samples frame of this turn (hub.ts samplesSoon), null while no page
    // is watching: then no live points are built at all.
    const live = count > 0 ? hub.samplesSoon(obs.id, arrival) : null;
    const series = recent.seriesOf(obs.id);
    const rings = obs.keys ? ringsOf(series, obs.keys, ringsSeen) : null;
    const columns = obs.columns;
    if (columns && rings) {
      // A batch decoded to columns (Message.columns): each ring, live column and history block
      // takes its points from a column, with no walk over any sample's metrics.
      columnsIn(obs.id, obs.keys!, columns, rings, live);
    } else if (rings) {
      // The usual frame (Message.keys): its series (and live columns) looked up once, not once
      // per point.
      const cols = live ? live.columns(obs.keys!) : null;
      history?.appendFrame(obs.id, obs.keys!, obs.samples);
      if (message === frameColumns.single && obs.samples.length === 1) {
        // The usual single frame: its values in the keys' order, as the decoder read them
        // (FrameColumns.single), with no walk over the sample's metrics object.
        const t = obs.samples[0].t;
        const values = frameColumns.values;
        live?.add(t);
        for (let i = 0; i < rings.length; i++) {
          const v = values[i];
          rings[i].push(t, v);
          if (cols) cols[i].push(v);
        }
      } else {
        for (const s of obs.samples) {
          let i = 0;
          live?.add(s.t);
          for (const name in s.metrics) {
            const v = s.metrics[name];
            rings[i].push(s.t, v);
            if (cols) cols[i].push(v);
            i++;
          }
        }
      }
    } else {
      // A new series (or one refused): point by point, so the series limits apply. A batch
      // with columns has no samples made yet: made here, from its columns.
      const samples = columns ? placedSamples(message, columns) : obs.samples;
      for (const s of samples) refused += place(obs.id, series, s, live);
    }
    history?.touch(view, obs.lastSeq, obs.agentStart);
    // The alerts read the columns where there are some (a new series' batch too).
    if (columns) {
      deps.alerts?.observeColumns(view, obs.keys!, columns.times, columns.values, columns.rows);
    } else if (count > 0) deps.alerts?.observe(view, obs.samples);
    return refused;
  };

  /** A batch's columns into its rings, the live frame (when a page watches) and history. */
  const columnsIn = (
    id: string,
    keys: readonly string[],
    { times, values, rows }: PlacedColumns,
    rings: Ring[],
    live: SamplesColumns | null,
  ) => {
    history?.appendColumns(id, keys, times, values, rows);
    for (let j = 0; j < rings.length; j++) rings[j].pushColumn(times, values, j * rows, rows);
    live?.addColumns(keys, times, values, rows);
  };

  /** One sample's points into its series (new series within the limits); returns refusals. */
  const place = (
    id: string,
    series: Map<string, Ring>,
    s: PlacedSample,
    live: SamplesColumns | null,
  ): number => {
    let refused = 0;
    live?.add(s.t);
    for (const name in s.metrics) {
      let ring = series.get(name);
      if (!ring) {
        if (series.size >= maxSeries) {
          stats.refuse("series_limit", `${id} has ${maxSeries} series; ${name} refused`);
          refused++;
          continue;
        }
        if (recent.seriesTotal >= maxTotal) {
          stats.refuse("series_limit", `${maxTotal} series in all; ${id} ${name} refused`);
          refused++;
          continue;
        }
        ring = recent.addSeries(series, name);
      }
      const v = s.metrics[name];
      ring.push(s.t, v);
      history?.append(id, name, s.t, v);
      live?.set(name, v);
    }
    return refused;
  };

  return Object.assign(ingest, { accept, flush });
}

/**
 * The rings last found for an instance's series map, with the keys array (Message.keys) they
 * were found for and the map's size then. The decoder hands frames of one shape the same keys
 * array, so an instance's usual frame finds its rings with one lookup here, not one per key.
 * A series map only grows (a forgotten instance gets a new map), so while it has the same size
 * its rings are the same: the size check is belt and braces.
 */
type RingsSeen = WeakMap<
  Map<string, Ring>,
  { keys: readonly string[]; size: number; rings: Ring[] }
>;

/**
 * The ring of each of `keys` in `series`, in order; null when one is missing (a new series
 * goes the per-point way, which applies the series limits).
 */
function ringsOf(
  series: Map<string, Ring>,
  keys: readonly string[],
  seen: RingsSeen,
): Ring[] | null {
  const last = seen.get(series);
  if (last !== undefined && last.keys === keys && last.size === series.size) return last.rings;
  const rings: Ring[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const ring = series.get(keys[i]);
    if (ring === undefined) return null;
    rings[i] = ring;
  }
  seen.set(series, { keys, size: series.size, rings });
  return rings;
}
