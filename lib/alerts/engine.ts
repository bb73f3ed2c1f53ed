/**
 * The alert engine: the collector feeds it every accepted sample (`observe`, cheap) and
 * calls `evaluate` once a second; it keeps one alert per (rule, instance) through
 * pending -> firing -> resolved, stores each change, and queues a webhook on firing and on
 * resolving. Leak estimates are refreshed every few seconds, not per sample.
 *
 * @module
 */
import type { InstanceView } from "../live/messages.ts";
import { LeakDetector, type LeakEstimate, type LeakOptions, MB } from "./leak.ts";
import { compare, type LeakRule, type Rule, ruleSelects, type RuleSet } from "./rules.ts";
import type { AlertStore } from "./store.ts";
import type { Notifier, NotifyStats } from "./notify.ts";
import type { Alert, AlertLeak, LeakSite } from "./types.ts";

/** The metric the leak detector follows, and the container limit it compares with. */
export const RSS_METRIC = "mem.rss_bytes";
export const LIMIT_METRIC = "container.mem.limit_bytes";

/** Options for {@link createAlertEngine}. */
export interface AlertEngineOptions {
  /** The rules (a parsed file, or a list; see DEFAULT_RULES). */
  rules: RuleSet | readonly Rule[];
  now: () => number;
  /** Where alerts are kept across restarts (default: nowhere). */
  store?: AlertStore | null;
  /** Where firing and resolving are sent (default: nowhere). */
  notifier?: Notifier | null;
  log?: (line: string) => void;
  /** Leak detector tuning (window 30 min, 90 s of data first). */
  leak?: LeakOptions;
  /** How often leak estimates are refreshed, ms (default 5000). */
  leakEveryMs?: number;
  /**
   * Most time one `evaluate` spends refreshing leak estimates, ms (default 20; an estimate
   * costs ~1 ms). Past it, the stalest instances are refreshed on the next call.
   */
  leakBudgetMs?: number;
  /** Resolved alerts kept for `list()` (default 200). */
  historySize?: number;
  /** Called after every change of state (pending, firing, resolved), e.g. to publish it live. */
  onChange?: (alert: Alert) => void;
  /** After start, instances not yet live do not resolve threshold alerts for this long, ms. */
  graceMs?: number;
  /** Where an instance's heap grows (its latest heap profile), put on its leak alerts. */
  leakSites?: (instanceId: string) => LeakSite[] | undefined;
}

/** One sample: `[t, metrics]`, or `{ t, metrics }` as ingest places it. */
export type Point =
  | readonly [number, Record<string, number>]
  | { readonly t: number; readonly metrics: Record<string, number> };

/** What `/api/alerts` returns. */
export interface AlertList {
  /** Pending and firing alerts, oldest first. */
  active: Alert[];
  /** Resolved alerts, newest first. */
  recent: Alert[];
}

/** Counters for `/api/stats`. */
export interface AlertStats {
  rules: number;
  pending: number;
  firing: number;
  notify: NotifyStats | null;
}

/** The engine the collector drives. */
export interface AlertEngine {
  /**
   * Feed one instance's newly accepted samples, as `[collector time, metrics]` pairs or as
   * ingest's placed samples (`{ t, metrics }`). Cheap: O(samples × threshold rules).
   */
  observe(view: InstanceView, points: ReadonlyArray<Point>): void;
  /** Advance every alert to `now`; `instances` is every known instance. Call once a second. */
  evaluate(now: number, instances: readonly InstanceView[]): void;
  list(): AlertList;
  /** The leak detector's latest estimate for an instance, null until it has enough data. */
  leakOf(instanceId: string): LeakEstimate | null;
  stats(): AlertStats;
  /** Close the store and the notifier. */
  close(): void;
}

interface ThresholdState {
  since: number | null;
  value: number;
}

interface InstanceState {
  restarts: number;
  startedAt: number | null;
  detector: LeakDetector;
  leak: LeakEstimate | null;
  leakAt: number;
  limit: number | null;
  rules: Rule[];
  thresholds: Map<string, ThresholdState>;
  leakSince: Map<string, number>;
}

interface Active {
  alert: Alert;
  lastTrue: number;
}

interface Verdict {
  holds: boolean;
  since: number;
  value: number;
  message: string;
  leak?: AlertLeak;
}

/** Create an alert engine; restores active alerts and history from the store. */
export function createAlertEngine(opts: AlertEngineOptions): AlertEngine {
  const rules: Rule[] = Array.isArray(opts.rules)
    ? [...opts.rules]
    : [...(opts.rules as RuleSet).rules];
  const byName = new Map(rules.map((r) => [r.name, r]));
  const store = opts.store ?? null;
  const notifier = opts.notifier ?? null;
  const log = opts.log ?? (() => {});
  const leakEveryMs = opts.leakEveryMs ?? 5000;
  const leakBudgetMs = opts.leakBudgetMs ?? 20;
  const historySize = opts.historySize ?? 200;
  const started = opts.now();
  const graceMs = opts.graceMs ?? 10_000;
  const instances = new Map<string, InstanceState>();
  const active = new Map<string, Active>();
  let recent: Alert[] = [];

  const save = (alert: Alert) => {
    try {
      store?.save(alert);
    } catch (e) {
      log(`alerts: cannot store ${alert.id}: ${(e as Error).message}`);
    }
    try {
      opts.onChange?.({ ...alert });
    } catch { /* a listener's problem is not the engine's */ }
  };

  if (store) {
    const loaded = store.load(historySize);
    recent = loaded.resolved;
    for (const alert of loaded.active) {
      if (byName.has(alert.rule)) {
        active.set(key(alert.rule, alert.instance), { alert, lastTrue: started });
      } else {
        finish(alert, started, `rule "${alert.rule}" no longer exists`);
      }
    }
  }

  function stateOf(view: InstanceView): InstanceState {
    let st = instances.get(view.id);
    if (!st) {
      st = {
        restarts: view.restarts,
        startedAt: view.startedAt,
        detector: new LeakDetector(opts.leak),
        leak: null,
        leakAt: -Infinity,
        limit: null,
        rules: [],
        thresholds: new Map(),
        leakSince: new Map(),
      };
      st.rules = rules.filter((r) => ruleSelects(r, view.service, view.instance));
      instances.set(view.id, st);
    } else if (
      view.restarts !== st.restarts ||
      (view.startedAt !== null && st.startedAt !== null &&
        Math.abs(view.startedAt - st.startedAt) > 60_000)
    ) {
      // A restart: its memory starts over, so does the trend.
      st.detector.reset();
      st.leak = null;
      st.leakAt = -Infinity;
      st.leakSince.clear();
      st.restarts = view.restarts;
    }
    if (view.startedAt !== null) st.startedAt = view.startedAt;
    return st;
  }

  function finish(alert: Alert, now: number, message: string) {
    alert.state = "resolved";
    alert.resolvedAt = now;
    alert.message = message;
    save(alert);
    recent.unshift(alert);
    if (recent.length > historySize) recent.length = historySize;
    try {
      store?.prune(now - 30 * 86_400_000, 10 * historySize);
    } catch { /* pruning is best effort */ }
  }

  function advance(rule: Rule, view: InstanceView, v: Verdict, now: number) {
    const k = key(rule.name, view.id);
    const a = active.get(k);
    if (v.holds) {
      let entry = a;
      if (!entry) {
        const alert: Alert = {
          id: `${rule.name}|${view.id}|${v.since}`,
          rule: rule.name,
          kind: rule.kind,
          instance: view.id,
          service: view.service,
          state: "pending",
          since: v.since,
          value: v.value,
          message: v.message,
        };
        entry = { alert, lastTrue: now };
        active.set(k, entry);
        save(alert);
      }
      entry.lastTrue = now;
      const alert = entry.alert;
      alert.value = v.value;
      alert.message = v.message;
      if (v.leak) alert.leak = withSites(v.leak, view.id);
      if (alert.state === "pending" && now - alert.since >= rule.forMs) {
        alert.state = "firing";
        alert.firedAt = now;
        save(alert);
        notifier?.notify("firing", { ...alert });
      }
      return;
    }
    if (!a) return;
    if (a.alert.state === "pending") {
      active.delete(k);
      try {
        store?.remove(a.alert.id);
      } catch { /* best effort: a stale pending row is resolved on the next load */ }
      return;
    }
    if (now - a.lastTrue >= rule.keepFiringForMs) {
      active.delete(k);
      if (v.leak) a.alert.leak = withSites(v.leak, view.id);
      a.alert.value = v.value;
      finish(a.alert, now, v.message);
      notifier?.notify("resolved", { ...a.alert });
    }
  }

  /** The leak numbers with the instance's allocation sites, when it has a heap profile. */
  function withSites(leak: AlertLeak, id: string): AlertLeak {
    const sites = opts.leakSites?.(id);
    return sites && sites.length > 0 ? { ...leak, sites } : leak;
  }

  function judge(rule: Rule, view: InstanceView, st: InstanceState, now: number): Verdict {
    switch (rule.kind) {
      case "threshold": {
        const th = st.thresholds.get(rule.name);
        const silent = view.status !== "live" && now - started >= graceMs;
        const holds = !!th && th.since !== null && !silent;
        return {
          holds,
          since: th?.since ?? now,
          value: th?.value ?? NaN,
          message: th === undefined
            ? `no ${rule.metric} reported`
            : silent
            ? `${rule.metric} not reported: instance ${view.status}`
            : `${rule.metric} is ${round(th.value)} (${
              holds ? "" : "no longer "
            }${rule.op} ${rule.value})`,
        };
      }
      case "absence": {
        const silentMs = Math.max(0, now - view.lastSeen);
        const holds = view.status !== "live" || (rule.forMs > 0 && silentMs >= rule.forMs);
        return {
          holds,
          since: view.lastSeen,
          value: Math.round(silentMs / 1000),
          message: holds ? `silent for ${duration(silentMs)} (${view.status})` : "reporting again",
        };
      }
      case "leak":
        return judgeLeak(rule, st, now);
    }
  }

  function judgeLeak(rule: LeakRule, st: InstanceState, now: number): Verdict {
    const e = st.leak;
    if (!e) {
      st.leakSince.delete(rule.name);
      return { holds: false, since: now, value: 0, message: "not enough memory data" };
    }
    const limit = st.limit ?? rule.limitBytes ?? null;
    const { holds, timeToLimitMs: ttl } = leakHolds(rule, e, limit);
    if (holds) {
      if (!st.leakSince.has(rule.name)) st.leakSince.set(rule.name, now);
    } else st.leakSince.delete(rule.name);
    const leak: AlertLeak = { mbPerHour: round(e.mbPerHour), confidence: round(e.confidence) };
    if (ttl !== undefined) leak.timeToLimitMs = Math.round(ttl);
    if (limit !== null) leak.limitBytes = limit;
    return {
      holds,
      since: st.leakSince.get(rule.name) ?? now,
      value: round(e.mbPerHour),
      message: holds ? describeLeak(e.mbPerHour, ttl) : `not leaking: ${rate(e.mbPerHour)}` +
        `, confidence ${round(e.confidence)}`,
      leak,
    };
  }

  return {
    observe(view, points) {
      const st = stateOf(view);
      for (const p of points) {
        const t = "t" in p ? p.t : p[0];
        const metrics = "metrics" in p ? p.metrics : p[1];
        const rss = metrics[RSS_METRIC];
        if (rss !== undefined) st.detector.add(t, rss);
        const limit = metrics[LIMIT_METRIC];
        if (limit !== undefined) st.limit = limit > 0 ? limit : null;
        for (const rule of st.rules) {
          if (rule.kind !== "threshold") continue;
          const v = metrics[rule.metric];
          if (v === undefined) continue;
          let th = st.thresholds.get(rule.name);
          if (!th) st.thresholds.set(rule.name, th = { since: null, value: v });
          th.value = v;
          if (compare(rule.op, v, rule.value)) th.since ??= t;
          else th.since = null;
        }
      }
    },

    evaluate(now, views) {
      const seen = new Set<string>();
      const states: InstanceState[] = [];
      const due: InstanceState[] = [];
      for (const view of views) {
        seen.add(view.id);
        const st = stateOf(view);
        states.push(st);
        if (now - st.leakAt >= leakEveryMs) due.push(st);
      }
      // Refresh the stalest estimates first, within a time budget, so a thousand instances
      // never stall the sweep (and ingest) for long: the rest wait for the next call.
      due.sort((a, b) => a.leakAt - b.leakAt);
      const t0 = performance.now();
      for (const st of due) {
        st.leakAt = now;
        st.leak = st.detector.estimate(now, st.limit);
        if (performance.now() - t0 >= leakBudgetMs) break;
      }
      views.forEach((view, i) => {
        const st = states[i];
        for (const rule of st.rules) advance(rule, view, judge(rule, view, st, now), now);
      });
      for (const id of instances.keys()) if (!seen.has(id)) instances.delete(id);
      for (const [k, a] of active) {
        if (seen.has(a.alert.instance)) continue;
        active.delete(k); // the instance was forgotten (its history expired)
        if (a.alert.state === "firing") {
          finish(a.alert, now, "instance forgotten");
          notifier?.notify("resolved", { ...a.alert });
        } else {
          try {
            store?.remove(a.alert.id);
          } catch { /* best effort */ }
        }
      }
    },

    list() {
      const list = [...active.values()].map((a) => ({ ...a.alert }));
      list.sort((a, b) => a.since - b.since);
      return { active: list, recent: recent.map((a) => ({ ...a })) };
    },

    leakOf(id) {
      return instances.get(id)?.leak ?? null;
    },

    stats() {
      let pending = 0;
      let firing = 0;
      for (const { alert } of active.values()) alert.state === "firing" ? firing++ : pending++;
      return { rules: rules.length, pending, firing, notify: notifier?.stats() ?? null };
    },

    close() {
      notifier?.close();
      store?.close();
    },
  };
}

/**
 * Whether a leak estimate meets a leak rule: a trend (confidence at least the rule's,
 * growth over the window larger than the wobble around it, both halves growing) that is
 * fast (at least `growth`, each half at least half of it) or reaches `limit` within `within`.
 */
export function leakHolds(
  rule: LeakRule,
  e: LeakEstimate,
  limit: number | null,
): { holds: boolean; timeToLimitMs?: number } {
  const slope = e.mbPerHour * MB / 3_600_000;
  const ttl = limit !== null && slope > 0 ? Math.max(0, (limit - e.levelBytes) / slope) : undefined;
  const trend = e.confidence >= rule.minConfidence && e.signalToNoise >= 1 &&
    e.sustainedMbPerHour > 0;
  const fast = rule.growthMbPerHour !== undefined && e.mbPerHour >= rule.growthMbPerHour &&
    e.sustainedMbPerHour >= rule.growthMbPerHour / 2;
  const soon = rule.withinMs !== undefined && ttl !== undefined && ttl <= rule.withinMs;
  return { holds: trend && (fast || soon), timeToLimitMs: ttl };
}

function key(rule: string, instance: string): string {
  return `${rule}\u0000${instance}`;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** `48 MB/min` above 60 MB/h, else `20 MB/h`. */
export function rate(mbPerHour: number): string {
  return Math.abs(mbPerHour) >= 60
    ? `${Math.round(mbPerHour / 6) / 10} MB/min`
    : `${Math.round(mbPerHour * 10) / 10} MB/h`;
}

/** A short duration for people: `45 s`, `12 min`, `~3 h`, `~2 d`. */
export function duration(ms: number): string {
  const s = ms / 1000;
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 48 * 3600) return `~${Math.round(s / 3600)} h`;
  return `~${Math.round(s / 86400)} d`;
}

/** `leaking 9 MB/min, limit in ~3 h` (the table badge and the alert message). */
export function describeLeak(mbPerHour: number, timeToLimitMs?: number): string {
  const head = `leaking ${rate(mbPerHour)}`;
  return timeToLimitMs === undefined ? head : `${head}, limit in ${duration(timeToLimitMs)}`;
}
