/**
 * The alert engine: the collector feeds it every accepted sample (`observe`, cheap) and
 * calls `evaluate` once a second; it keeps one alert per (rule, instance) through
 * pending -> firing -> resolved, stores each change, and queues a webhook on firing and on
 * resolving. Leak estimates are refreshed every few seconds, not per sample.
 *
 * Alerts end with what they are about: an instance that said goodbye (`stopped`) or is
 * `gone` has its alerts resolved at once, as of its last report (its silent alert as of
 * now), and is never silent; nor is one not heard since a restart unless the previous run saw
 * it fall silent (verdict.ts `absenceVerdict`). Alerts stored by a previous
 * run are not shown as firing again: each waits, hidden, until the data confirms it (then it
 * carries on as the same alert, without a second notification) or does not (then it is
 * resolved).
 *
 * @module
 */
import type { InstanceView } from "../model/instance.ts";
import { LeakDetector, type LeakEstimate, type LeakOptions } from "./leak.ts";
import { type Rule, ruleSelects, type RuleSet } from "./rules.ts";
import type { AlertStore } from "./store.ts";
import type { Notifier, NotifyStats } from "./notify.ts";
import type { Alert, AlertLeak, LeakSite } from "./types.ts";
import { CarriedAlerts } from "./carried.ts";
import { type ColumnBatch, InstanceState, type Point } from "./instance_state.ts";
import { formatEta, leakText } from "./leak_text.ts";
import { absenceVerdict, ended, leakVerdict, round, type Verdict } from "./verdict.ts";
import { errorMessage } from "../errors.ts";

export { leakHolds, RECENT_CONFIDENCE } from "./verdict.ts";
export { LIMIT_METRIC, type Point, RSS_METRIC } from "./instance_state.ts";

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
  /**
   * Where an instance's heap grows (its latest heap profile), put on its leak alerts: only a
   * profile that arrived at or after `since`, when the instance's current process started (a
   * restarted app under the same id leaks elsewhere, or not in its heap at all).
   */
  leakSites?: (instanceId: string, since: number) => LeakSite[] | undefined;
}

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
  /** {@link observe} for a batch as columns (see InstanceState.feedColumns). */
  observeColumns(view: InstanceView, ...batch: ColumnBatch): void;
  /** Advance every alert to `now`; `instances` is every known instance. Call once a second. */
  evaluate(now: number, instances: readonly InstanceView[]): void;
  list(): AlertList;
  /** The leak detector's latest estimate for an instance, null until it has enough data. */
  leakOf(instanceId: string): LeakEstimate | null;
  /** The span and bucket width of the leak detectors' window, ms (what {@link primeLeak} wants). */
  readonly leakWindow: { windowMs: number; resolutionMs: number };
  /**
   * An instance's RSS from before a collector restart (durable history, oldest first). It is
   * fed to the instance's leak detector ahead of its first new sample, when that sample comes
   * from the same process (not restarted): a leak alert then goes on across the restart at
   * once, instead of waiting for the detector to fill again and ending meanwhile. An instance
   * that never reports again is never judged on it.
   */
  primeLeak(view: InstanceView, times: ArrayLike<number>, values: ArrayLike<number>): void;
  stats(): AlertStats;
  /**
   * Wait until every queued webhook delivery is done, or `timeoutMs` has passed (a stop
   * waits this long at most for a target that is down). True when nothing is left.
   */
  settle(timeoutMs: number): Promise<boolean>;
  /** Close the store and the notifier (deliveries still queued are dropped). */
  close(): void;
}

interface Active {
  alert: Alert;
  lastTrue: number;
  /** When the condition started to hold in this run (what `for` is counted from). */
  heldSince: number;
  /** Its firing was notified already (an alert carried over a restart). */
  notified: boolean;
}

/** Whether an alert fired (and its firing was notified), in this run or an earlier one. */
function hasFired(alert: Alert): boolean {
  return alert.firedAt !== undefined;
}

/**
 * When an alert resolves: when its instance ended (`endedAt`, its last report), or now. Never
 * before it fired (or began) nor after now: an alert that fired on the instance's last data
 * lasted at least until it fired.
 */
function endOf(alert: Alert, endedAt: number | undefined, now: number): number {
  if (endedAt === undefined) return now;
  return Math.min(now, Math.max(endedAt, alert.firedAt ?? alert.since));
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
  const leakWarmMs = (opts.leak?.minSpanMs ?? 90_000) + 2 * leakEveryMs;
  const { windowMs, resolutionMs } = new LeakDetector(opts.leak);
  const leakWindow = { windowMs, resolutionMs };
  /** Alerts a previous run left active, waiting for the data to confirm them. */
  const carried = new CarriedAlerts(started, (name) => {
    const rule = byName.get(name)!;
    return rule.forMs + graceMs + (rule.kind === "leak" ? leakWarmMs : 0);
  });
  let recent: Alert[] = [];

  let failedSaves = 0; // a full disk fails every save: one line a minute, with a count
  let saidAt = -Infinity;
  const save = (alert: Alert) => {
    try {
      store?.save(alert);
    } catch (e) {
      const now = opts.now();
      if (now - saidAt < 60_000) failedSaves++;
      else {
        const more = failedSaves > 0 ? ` (${failedSaves} more since the last line)` : "";
        log(`alerts: cannot store ${alert.id}: ${errorMessage(e)}${more}`);
        [saidAt, failedSaves] = [now, 0];
      }
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
        carried.add(key(alert.rule, alert.instance), alert);
        continue;
      }
      finish(alert, started, `rule "${alert.rule}" no longer exists`);
      // Told it fired, the receiver must be told it ended, as for every other ending.
      if (hasFired(alert)) notifier?.notify("resolved", { ...alert });
    }
  }

  function stateOf(view: InstanceView): InstanceState {
    let st = instances.get(view.id);
    if (!st) {
      const selected = rules.filter((r) => ruleSelects(r, view.service, view.instance));
      instances.set(view.id, st = new InstanceState(view, selected, opts.leak));
    } else st.follow(view);
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

  function fire(entry: Active, now: number) {
    const alert = entry.alert;
    alert.state = "firing";
    alert.firedAt ??= now;
    save(alert);
    if (!entry.notified) notifier?.notify("firing", { ...alert });
    entry.notified = true;
  }

  function advance(rule: Rule, view: InstanceView, v: Verdict, now: number) {
    const k = key(rule.name, view.id);
    const a = active.get(k);
    if (v.holds) {
      let entry = a;
      if (!entry) {
        // The same alert as before a restart, if one waits for this confirmation.
        const old = carried.take(k);
        const alert: Alert = old ?? {
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
        // One that fired before carries on firing, told once: its firedAt says so across any
        // number of restarts (a state saved as pending while it waited did not).
        const notified = old !== undefined && hasFired(old);
        alert.state = notified ? "firing" : "pending";
        entry = { alert, lastTrue: now, heldSince: v.since, notified };
        active.set(k, entry);
        save(alert);
      }
      entry.lastTrue = now;
      const alert = entry.alert;
      alert.value = v.value;
      alert.message = v.message;
      if (v.leak) alert.leak = withSites(v.leak, view);
      if (alert.state === "pending" && now - entry.heldSince >= rule.forMs) fire(entry, now);
      return;
    }
    if (!a) return;
    if (a.alert.state === "pending" && v.promote) {
      // Silent until gone: certain now, and this is the last chance to say so (once).
      a.alert.value = v.value;
      fire(a, now);
      return;
    }
    if (a.alert.state === "pending" && !a.notified) {
      active.delete(k);
      try {
        store?.remove(a.alert.id);
      } catch { /* best effort: a stale pending row is resolved on the next load */ }
      return;
    }
    if (v.final || a.alert.state === "pending" || now - a.lastTrue >= rule.keepFiringForMs) {
      active.delete(k);
      if (v.leak) a.alert.leak = withSites(v.leak, view);
      a.alert.value = v.value;
      finish(a.alert, endOf(a.alert, v.endedAt, now), v.message);
      notifier?.notify("resolved", { ...a.alert });
    }
  }

  /** The leak numbers with the allocation sites of the instance's current process, if profiled. */
  function withSites(leak: AlertLeak, view: InstanceView): AlertLeak {
    const since = Math.max(view.startedAt ?? -Infinity, view.lastRestartAt ?? -Infinity);
    const sites = opts.leakSites?.(view.id, since);
    return sites && sites.length > 0 ? { ...leak, sites } : leak;
  }

  function judge(rule: Rule, view: InstanceView, st: InstanceState, now: number): Verdict {
    const gone = ended(view.status);
    if (gone !== null && rule.kind !== "absence") {
      return {
        holds: false,
        since: now,
        value: NaN,
        message: gone,
        final: true,
        endedAt: view.lastSeen,
      };
    }
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
        const k = key(rule.name, view.id);
        const alerted = active.has(k) || carried.has(k);
        return absenceVerdict(view, { started, now, gone, seenLive: st.seenLive, alerted });
      }
      case "leak":
        return leakVerdict(rule, st.leak, st.limit ?? rule.limitBytes ?? null, st.leakSince, now);
    }
  }

  return {
    observe(view, points) {
      stateOf(view).feed(points);
    },

    observeColumns(view, ...batch) {
      stateOf(view).feedColumns(...batch);
    },

    evaluate(now, views) {
      const seen = new Set<string>();
      const states: InstanceState[] = [];
      const due: InstanceState[] = [];
      for (const view of views) {
        seen.add(view.id);
        const st = stateOf(view);
        states.push(st);
        if (view.status === "live") st.seenLive = true;
        if (ended(view.status) !== null) {
          // Stopped or gone: its memory trend is over (a restart starts a new one).
          if (st.detector.size > 0) st.detector.reset();
          st.leak = null;
        } else if (now - st.leakAt >= leakEveryMs) due.push(st);
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
      // Alerts of the previous run that the data has not confirmed in time end: a firing one
      // is resolved (and notified, as its firing was), a pending one forgotten.
      for (const { alert, why, endedAt } of carried.due(now, views, ended)) {
        if (!hasFired(alert)) {
          try {
            store?.remove(alert.id);
          } catch { /* best effort */ }
          continue;
        }
        finish(alert, endOf(alert, endedAt, now), why);
        notifier?.notify("resolved", { ...alert });
      }
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

    leakWindow,

    primeLeak(view, times, values) {
      stateOf(view).prime(times, values);
    },

    stats() {
      let pending = 0;
      let firing = 0;
      for (const { alert } of active.values()) alert.state === "firing" ? firing++ : pending++;
      return { rules: rules.length, pending, firing, notify: notifier?.stats() ?? null };
    },

    async settle(timeoutMs) {
      if (!notifier) return true;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<false>((r) => timer = setTimeout(() => r(false), timeoutMs));
      try {
        return await Promise.race([notifier.idle().then(() => true), late]);
      } finally {
        clearTimeout(timer);
      }
    },

    close() {
      notifier?.close();
      store?.close();
    },
  };
}

function key(rule: string, instance: string): string {
  return `${rule}\u0000${instance}`;
}

/** A short duration for people: `45 s`, `12 min`, `~3 h`, `~2 d`. */
export const duration: (ms: number) => string = formatEta;

/** `leaking 9 MiB/min, limit in ~3 h` (the alert message; the page's badge says the same). */
export const describeLeak: (mbPerHour: number, timeToLimitMs?: number) => string = leakText;
