/// <reference lib="dom" />
/**
 * What each `/ws` frame does to the page, dispatched on its type: `hello` rebuilds
 * everything (a late page draws the last minutes at once), `samples` appends, `instance`
 * adds or updates, `services` feeds the panels, `alerts` the alerts panel, badges and trend
 * lines, `dropped` counts what the collector skipped for a slow tab. A malformed frame is
 * ignored, never fatal.
 *
 * @module
 */
import type {
  AlertsFrame,
  DroppedFrame,
  HelloFrame,
  IngestFrame,
  InstanceFrame,
  LiveFrame,
  SamplesFrame,
  ServicesFrame,
} from "../lib/live/messages.ts";
import { samplesPoints } from "../lib/live/samples.ts";
import type { ClockSync } from "./clock.ts";
import type { Store } from "./store.ts";
import type { PageState } from "./page_state.ts";
import type { LiveView } from "./live_view.ts";

/** The parts of the page frames reach. */
export interface FrameDeps {
  store: Store;
  state: PageState;
  clock: ClockSync;
  live: LiveView;
  /** After a hello: history can load, the header recounts. */
  onHello(): void;
  /** A new or recoloured instance (the history view's list changes). */
  onInstancesChanged(): void;
  onServices(now: number, services: ServicesFrame["services"]): void;
  onAlerts(f: AlertsFrame): void;
  /** The header's counters changed. */
  onCounters(): void;
  /** The collector's queueing delay at arrival, last minute (ms). */
  onIngest(f: IngestFrame): void;
}

/** A function taking every frame, in order. */
export function frameHandler(deps: FrameDeps): (frame: LiveFrame) => void {
  const { store, state, clock, live } = deps;
  const handlers: { [K in LiveFrame["type"]]: (f: Extract<LiveFrame, { type: K }>) => void } = {
    hello(f: HelloFrame) {
      state.omitted = typeof f.omitted === "number" && f.omitted > 0 ? f.omitted : 0;
      store.clear();
      for (const view of Array.isArray(f.instances) ? f.instances : []) {
        if (view && typeof view.id === "string") store.upsert(view);
      }
      if (f.series && typeof f.series === "object") {
        for (const [id, points] of Object.entries(f.series)) store.append(id, points);
      }
      store.trim(clock.now());
      live.setEndpoints(
        typeof f.agents === "string" ? f.agents : null,
        typeof f.otlp === "string" ? f.otlp : null,
      );
      live.rebuild();
      if (state.metric !== null) void live.backfill(state.metric);
      deps.onHello();
    },
    samples(f: SamplesFrame) {
      if (typeof f.id !== "string") return;
      const { entry, created, added } = store.append(f.id, samplesPoints(f));
      if (created) {
        live.show(f.id, entry);
        deps.onInstancesChanged();
      }
      live.append(f.id, entry, added);
    },
    services(f: ServicesFrame) {
      if (!Array.isArray(f.services)) return;
      state.services = f.services;
      deps.onServices(typeof f.now === "number" ? f.now : clock.now(), f.services);
    },
    instance(f: InstanceFrame) {
      if (!f.instance || typeof f.instance.id !== "string") return;
      const { entry, created, recolored } = store.upsert(f.instance);
      live.show(entry.view.id, entry);
      if (created || recolored) deps.onInstancesChanged();
    },
    alerts(f: AlertsFrame) {
      deps.onAlerts(f);
    },
    ingest(f: IngestFrame) {
      if (f.queueDelayMs && typeof f.queueDelayMs === "object") deps.onIngest(f);
    },
    dropped(f: DroppedFrame) {
      if (Number.isFinite(f.count)) state.dropped += f.count;
      deps.onCounters();
    },
  };
  return (frame) => {
    state.frames++;
    clock.observe(frame.now);
    const handle = handlers[frame.type] as ((f: LiveFrame) => void) | undefined;
    handle?.(frame);
  };
}
