/**
 * The instance registry: identity, liveness, clock offset and loss accounting for every
 * (service, instance) that reports. It decides where each sample sits on the collector's
 * clock and which samples are new; it holds no points (the recent store does).
 *
 * @module
 */
import type { Identity, Message } from "../protocol.ts";
import { blankView, type InstanceView, type PersistedView, statusAt } from "../model/instance.ts";
import { ColorsInUse } from "./colors_in_use.ts";
import { Deriver, derivesNothing } from "./derive.ts";
import { Sequence } from "./sequence.ts";
import { OffsetEstimate } from "./clock_offset.ts";
import { IdCache } from "./instance_id.ts";
import { EvictionOrder } from "./eviction.ts";
import { type LatestOf, setLatest, setLatestRow } from "./latest.ts";

export { instanceId } from "./instance_id.ts";
import { blankObserved, INSTANCE_LIMIT, NO_SAMPLES, placedOf } from "./placed.ts";
import type { Observation, Observed, PlacedColumns, PlacedSample } from "./placed.ts";
export type { Observation, Observed, PlacedColumns, PlacedSample } from "./placed.ts";
export type { PersistedView };

/** Options for {@link Instances}. */
export interface InstancesOptions {
  /**
   * Most instances tracked at once. At the cap a new instance takes the place of the one
   * silent longest (gone before stale); only when every one is live is it refused (counted).
   */
  maxInstances?: number;
  /** Called with the id of each instance evicted to make room (to forget its points). */
  onEvict?: (id: string) => void;
  /** Assumed reporting interval when an agent does not say, ms. */
  defaultIntervalMs?: number;
  /** Receives every histogram's counts per interval, by service (see services.ts). */
  onHistogram?: (service: string, key: string, counts: ArrayLike<number>) => void;
  /**
   * Most metric names kept in a view's `latest` (default 512, ingest's series cap per
   * instance); later new names are not listed there. Without it an agent sending a million
   * names grew one view to a million entries, copied with the view on every write to history.
   */
  maxLatest?: number;
}

interface State extends LatestOf {
  view: InstanceView;
  /** Sequence accounting (sequence.ts); its `last` is persisted. */
  seq: Sequence;
  duplicates: number;
  offset: OffsetEstimate;
  derive: Deriver;
  /** The agent's start time as it sent it (its clock), to tell a restart. */
  agentStart: number | null;
  /** Collector time of this instance's newest point: points never go back before it. */
  lastPlaced: number;
  /** The Identity object of its last message: the same one again is the same identity. */
  identity: Identity | null;
  /**
   * Since when this collector could hear the instance: its restart, for an instance restored
   * from history; -Infinity for one it heard itself. Silence before it is not the instance's.
   */
  heardSince: number;
}

/** Every instance that has reported, keyed by id. */
export class Instances {
  readonly maxInstances: number;
  readonly defaultIntervalMs: number;
  readonly maxLatest: number;
  #byId = new Map<string, State>();
  /**
   * The decoder hands an agent's unchanged identity back as the same object (protocol.ts):
   * found here, a message skips the id, the lookup by id and the identity's compares.
   */
  #byIdentity = new WeakMap<Identity, State>();
  #ids = new IdCache();
  #colors = new ColorsInUse(() => [...this.#byId.values()].map((s) => s.view));
  #onHistogram: InstancesOptions["onHistogram"];
  #onEvict: InstancesOptions["onEvict"];
  #eviction = new EvictionOrder();
  /** Instances evicted to make room for new ones, over all time. */
  evicted = 0;

  constructor(opts: InstancesOptions = {}) {
    this.maxInstances = opts.maxInstances ?? 10_000;
    this.defaultIntervalMs = opts.defaultIntervalMs ?? 1000;
    this.maxLatest = opts.maxLatest ?? 512;
    this.#onHistogram = opts.onHistogram;
    this.#onEvict = opts.onEvict;
  }

  #deriver(service: string): Deriver {
    const sink = this.#onHistogram;
    return new Deriver(sink ? (key, counts) => sink(service, key, counts) : null);
  }

  /** Number of instances tracked. */
  get size(): number {
    return this.#byId.size;
  }

  /**
   * Account for one decoded message that arrived at collector time `arrival`.
   * Each sample is placed at `ts + offset`, where offset estimates the collector clock minus
   * the agent clock (see OffsetEstimate): the agent's own spacing of samples, on the
   * collector's clock, so a skewed agent clock neither hides nor shifts a line.
   * Samples whose sequence number was already seen are dropped as duplicates; gaps in the
   * sequence are counted as lost. The observation is reused by the next call (placed.ts).
   * `latestLater`: `latest` is left to the caller ({@link latestOf}, {@link latestFrom}).
   */
  observe(message: Message, arrival: number, latestLater = false): Observation {
    const { identity } = message;
    let state = this.#byIdentity.get(identity);
    let created = false;
    let changed = false;
    if (state !== undefined && state.identity === identity) {
      // The same identity as its last message (state.identity is cleared when it is dropped).
    } else if ((state = this.#byId.get(this.#ids.get(identity.service, identity.instance)))) {
      changed = this.#updateIdentity(state, identity, arrival);
      state.identity = identity;
      this.#byIdentity.set(identity, state);
    } else {
      const id = this.#ids.get(identity.service, identity.instance);
      if (this.#byId.size >= this.maxInstances && !this.#evictOne(arrival)) {
        return INSTANCE_LIMIT;
      }
      state = {
        view: this.#newView(id, identity, arrival),
        seq: new Sequence(),
        duplicates: 0,
        offset: new OffsetEstimate(),
        derive: this.#deriver(identity.service),
        agentStart: identity.start ?? null,
        lastPlaced: -Infinity,
        heardSince: -Infinity,
        latestNames: 0,
        identity,
      };
      this.#byId.set(id, state);
      this.#byIdentity.set(identity, state);
      created = true;
    }
    const view = state.view;
    const id = view.id;
    const offset = state.offset.observe(arrival - message.sent, arrival);
    view.clockOffsetMs = offset;
    if (state.agentStart !== null) {
      const started = Math.min(state.agentStart + offset, arrival);
      if (started !== view.startedAt) view.startedAt = started; // a number | null: boxed if stored
    }
    view.lastSeen = arrival;
    // A goodbye (clean stop) makes it `stopped`: not silent, not expected back.
    const status = message.bye ? "stopped" : "live";
    if (view.status !== status) {
      view.status = status;
      changed = true;
    }
    const lostBefore = view.lost;
    const n = message.samples.length;
    // The usual frame: every sample has the same keys and derives nothing, so `latest` is
    // the last sample's values, written once (below), not once per sample.
    const keys = message.keys !== undefined && this.#derivesNothing(message.keys)
      ? message.keys
      : undefined;
    // A batch with columns: times go to a column and no object is made per sample, as long as
    // none is a duplicate (at the first one, the samples so far are made, and kept from then).
    const cols = keys !== undefined ? message.columns : undefined;
    if (cols !== undefined && this.#times.length < n) this.#times = new Float64Array(n);
    const times = cols !== undefined ? this.#times : null;
    // Sized once (a batch's array grew by copies as it was pushed to); cut to the samples kept.
    // One sample (single-sample frames): the reused array and sample (see Observation).
    let samples: PlacedSample[] | null = times !== null ? null : n === 1 ? this.#one : new Array(n);
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const s = message.samples[i];
      if (s.seq !== null) {
        const seq = state.seq.account(s.seq, arrival, view.intervalMs, state.agentStart === null);
        if (seq.kind === "duplicate") {
          state.duplicates++;
          if (samples === null) samples = placedOf(message, times!, kept);
          continue;
        }
        if (seq.kind === "restart") {
          this.#restarted(state, arrival); // clears the sequence
          state.seq.account(s.seq, arrival, view.intervalMs, false);
        } else if (seq.kind === "reset") view.seqResets++;
        else view.lost += seq.gap;
        if (seq.kind !== "next") changed = true;
      }
      view.received++;
      // Never later than arrival, and never before this instance's previous point: a clock
      // stepped back, or a sender replaying old timestamps, would otherwise make every store
      // insert each point in the middle (a walk over the whole recent window, per point).
      const t = Math.max(Math.min(s.ts + offset, arrival), state.lastPlaced);
      state.lastPlaced = t;
      if (samples === null) {
        times![kept++] = t;
        continue;
      }
      if (n === 1) {
        const one = samples[kept++];
        one.t = t;
        one.metrics = s.metrics;
      } else samples[kept++] = { t, metrics: s.metrics };
      if (keys) continue;
      state.derive.derive(t, s.metrics, s.hist, s.metrics); // derived series join the sample
      if (!latestLater) setLatest(state, s.metrics, this.maxLatest);
    }
    if (keys && kept > 0 && !latestLater) {
      // Without `samples` no sample was dropped: the last kept is the message's last.
      const last = samples === null ? message.samples[n - 1] : samples[kept - 1];
      setLatest(state, last.metrics, this.maxLatest, keys);
    }
    if (view.lost !== lostBefore) changed = true;
    const o = this.#observed;
    o.id = id;
    o.view = view;
    o.created = created;
    o.changed = changed;
    o.keys = keys;
    o.lastSeq = state.seq.last;
    o.agentStart = state.agentStart;
    o.columns = samples === null ? this.#columns : undefined;
    if (samples === null) {
      const c = this.#columns;
      c.rows = n;
      c.times = times!;
      c.values = cols!.values;
      o.samples = NO_SAMPLES;
    } else if (kept < samples.length) { // duplicates were dropped
      o.samples = n === 1 ? NO_SAMPLES : (samples.length = kept, samples);
    } else o.samples = samples;
    return o;
  }
  /** What observe returns, filled again each call, and its parts (see Observation). */
  #observed: Observed = blankObserved();
  #one: PlacedSample[] = [{ t: 0, metrics: {} }];
  #columns: PlacedColumns = { rows: 0, times: new Float64Array(0), values: new Float64Array(0) };

  /**
   * derive.ts derivesNothing, remembered for the last keys array asked: frames of one shape
   * share theirs (Message.keys), and the answer looks at each key's text.
   */
  #derivesNothing(keys: readonly string[]): boolean {
    if (keys !== this.#derivesKeys) {
      this.#derivesKeys = keys;
      this.#derives = derivesNothing(keys);
    }
    return this.#derives;
  }
  #derivesKeys: readonly string[] | null = null;
  /** The placed times of a batch with columns (Observation.columns), reused. */
  #times = new Float64Array(128);
  #derives = false;

  /**
   * Mark instances stale after 3 missed intervals and gone after 60 (a `stopped` one, which
   * said goodbye, stays stopped), and forget those silent for longer than `forgetAfterMs`.
   * Returns the views whose status changed and the ids forgotten.
   */
  sweep(now: number, forgetAfterMs: number): { changed: InstanceView[]; forgotten: string[] } {
    const changed: InstanceView[] = [];
    const forgotten: string[] = [];
    for (const [id, { view, heardSince }] of this.#byId) {
      const silent = now - view.lastSeen;
      if (silent > forgetAfterMs) {
        this.#drop(id);
        forgotten.push(id);
        continue;
      }
      if (view.status === "stopped") continue;
      // Restored gone (it was gone before the restart): gone until it reports again.
      if (view.status === "gone" && heardSince > view.lastSeen) continue;
      // Silence while the collector was down does not count: after a restart an instance is
      // stale until it reports, and gone only 60 intervals after the restart. (Judged gone at
      // once, its alerts ended as "instance gone" a second before it reconnected.)
      const status = heardSince > view.lastSeen
        ? (statusAt({ ...view, lastSeen: heardSince }, now) === "gone" ? "gone" : "stale")
        : statusAt(view, now);
      if (status !== view.status) {
        view.status = status;
        changed.push(view);
      }
    }
    return { changed, forgotten };
  }

  /**
   * Re-list instances known before a restart, as stale until they report again (a stopped
   * or gone one stays so: it is not expected back, and must not look silent). A view
   * persisted with `lastSeq` (and `agentStart`) resumes its sequence: samples sent while the
   * collector was down or lost in its crash show up as a counted gap. Without them (older
   * data) the sequence starts over. Its clock offset carries over too (see OffsetEstimate).
   * `now` is the restart: silence is counted from it, not from the last report (see sweep).
   */
  restore(views: PersistedView[], now: number): void {
    // The most recently seen first: at the cap, those silent longest are the ones left out.
    const newest = [...views].sort((a, b) => b.lastSeen - a.lastSeen);
    for (const persisted of newest) {
      const { lastSeq, agentStart, ...v } = persisted;
      if (this.#byId.has(v.id) || this.#byId.size >= this.maxInstances) continue;
      const names = Object.keys(v.latest ?? {}).slice(0, this.maxLatest);
      const latest: Record<string, number> = {};
      for (const name of names) latest[name] = v.latest[name];
      this.#byId.set(v.id, {
        view: {
          ...v,
          status: v.status === "stopped" || v.status === "gone" ? v.status : "stale",
          latest,
          seqResets: v.seqResets ?? 0,
        },
        seq: new Sequence(typeof lastSeq === "number" ? lastSeq : null, v.lastSeen),
        duplicates: 0,
        offset: Number.isFinite(v.clockOffsetMs)
          ? new OffsetEstimate(v.clockOffsetMs, v.lastSeen)
          : new OffsetEstimate(),
        derive: this.#deriver(v.service),
        agentStart: typeof agentStart === "number" ? agentStart : null,
        lastPlaced: -Infinity,
        latestNames: names.length,
        heardSince: now,
        identity: null,
      });
    }
  }

  /** Write a sample's values as an instance's latest (after observe with `latestLater`). */
  latestOf(id: string, metrics: Record<string, number>, keys?: readonly string[]): void {
    const state = this.#byId.get(id);
    if (state !== undefined) setLatest(state, metrics, this.maxLatest, keys);
  }

  /**
   * Write an instance's latest values from a row of columns: `keys[j]`'s is
   * `values[at + j * stride]` (ingest's held single frames, staged.ts, after observe with
   * `latestLater`).
   */
  latestFrom(
    id: string,
    keys: readonly string[],
    values: Float64Array,
    at: number,
    stride: number,
  ) {
    const state = this.#byId.get(id);
    if (state !== undefined) setLatestRow(state, this.maxLatest, keys, values, at, stride);
  }

  /** The last sequence number seen from an instance (persisted with its view). */
  lastSeq(id: string): number | null {
    return this.#byId.get(id)?.seq.last ?? null;
  }

  /** The agent start time an instance sent (its clock), or null. */
  agentStart(id: string): number | null {
    return this.#byId.get(id)?.agentStart ?? null;
  }

  /** One instance's view (a live object: copy before keeping it). */
  get(id: string): InstanceView | undefined {
    return this.#byId.get(id)?.view;
  }

  /** All views, ordered by service then instance. */
  list(): InstanceView[] {
    return [...this.#byId.values()].map((s) => s.view).sort((a, b) =>
      a.service < b.service ? -1 : a.service > b.service ? 1 : a.instance < b.instance ? -1 : 1
    );
  }

  /** Samples dropped because their sequence number had been seen, per instance id. */
  duplicates(): Map<string, number> {
    return new Map([...this.#byId].map(([id, s]) => [id, s.duplicates]));
  }

  /** Make room for a new instance (eviction.ts); false when every instance is live. */
  #evictOne(now: number): boolean {
    const id = this.#eviction.pick(this.#byId, now);
    if (id === null) return false;
    this.#drop(id);
    this.evicted++;
    this.#onEvict?.(id);
    return true;
  }

  /** Forget an instance's state (its identity too: a message with it is not found again). */
  #drop(id: string): void {
    const state = this.#byId.get(id);
    if (state !== undefined) state.identity = null;
    this.#byId.delete(id);
  }

  #newView(id: string, identity: Identity, arrival: number): InstanceView {
    const color = this.#colors.pick(id, identity.color, arrival);
    return {
      ...blankView(id, identity.service, identity.instance, color, "live"),
      pid: identity.pid,
      host: identity.host,
      requestedColor: identity.color,
      firstSeen: arrival,
      lastSeen: arrival,
      intervalMs: identity.intervalMs ?? this.defaultIntervalMs,
    };
  }

  /**
   * The same instance started again (new pid or start time): one line, counted as a restart.
   * Its sequence, clock and counters start over.
   */
  #restarted(state: State, arrival: number): void {
    state.seq.clear();
    state.offset = new OffsetEstimate(); // maybe on another host, with another clock
    state.derive.reset();
    state.view.restarts++;
    state.view.lastRestartAt = arrival;
    state.view.startedAt = null;
  }

  /** Apply identity fields that may change between messages; true when any did. */
  #updateIdentity(state: State, identity: Identity, arrival: number): boolean {
    const v = state.view;
    let changed = false;
    const start = identity.start ?? null;
    const newStart = start !== null && state.agentStart !== null && start !== state.agentStart;
    if (identity.pid !== v.pid || newStart) {
      v.pid = identity.pid;
      state.agentStart = start;
      this.#restarted(state, arrival);
      changed = true;
    } else if (start !== null && state.agentStart === null) {
      state.agentStart = start; // first report after a collector restart
    }
    if (identity.host !== v.host) {
      v.host = identity.host;
      changed = true;
    }
    if (identity.color !== v.requestedColor) {
      v.requestedColor = identity.color;
      v.color = this.#colors.pick(v.id, identity.color, arrival);
      changed = true;
    }
    const interval = identity.intervalMs ?? this.defaultIntervalMs;
    if (interval !== v.intervalMs) {
      v.intervalMs = interval;
      changed = true;
    }
    return changed;
  }
}
