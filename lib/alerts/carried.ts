/**
 * Alerts a previous collector run left pending or firing. After a restart they are not shown
 * as active (their condition may be long over: the instance stopped, or died while the
 * collector was down); each waits here until the engine's fresh verdict confirms it (`take`:
 * the engine carries on with the same alert, firing again at once if it had fired: `firedAt`)
 * or `due` ends it: its instance is gone, stopped or forgotten, or its confirmation time has
 * passed.
 *
 * @module
 */
import type { InstanceView } from "../model/instance.ts";
import type { Alert } from "./types.ts";

/** A carried alert to end now, and why. */
export interface DueAlert {
  alert: Alert;
  why: string;
  /**
   * When it ended, if known before now: its instance's last report, for an alert about the
   * instance's data whose instance stopped or is gone (an absence alert ends when noticed).
   */
  endedAt?: number;
}

/** The waiting alerts of one engine, by the engine's (rule, instance) key. */
export class CarriedAlerts {
  #byKey = new Map<string, Alert>();

  /**
   * @param started when this run started (the engine's clock)
   * @param confirmMs how long after start an alert of a rule (by name) may wait
   */
  constructor(
    readonly started: number,
    readonly confirmMs: (rule: string) => number,
  ) {}

  /** Alerts still waiting. */
  get size(): number {
    return this.#byKey.size;
  }

  /** Keep a loaded alert waiting. */
  add(key: string, alert: Alert): void {
    this.#byKey.set(key, alert);
  }

  /** Whether an alert waits under `key`. */
  has(key: string): boolean {
    return this.#byKey.has(key);
  }

  /** The alert waiting under `key`, removed (the data confirmed it), or undefined. */
  take(key: string): Alert | undefined {
    const alert = this.#byKey.get(key);
    this.#byKey.delete(key);
    return alert;
  }

  /**
   * Remove and return the alerts to end at `now`: those whose instance is not in `views`
   * ("instance forgotten"), whose instance has ended (`ended` says why, e.g. stopped or
   * gone), or that waited past their confirmation time.
   */
  due(
    now: number,
    views: readonly InstanceView[],
    ended: (status: InstanceView["status"]) => string | null,
  ): DueAlert[] {
    if (this.#byKey.size === 0) return [];
    const byId = new Map(views.map((v) => [v.id, v]));
    const out: DueAlert[] = [];
    for (const [key, alert] of this.#byKey) {
      const view = byId.get(alert.instance);
      const end = view ? ended(view.status) : null;
      let why = !view ? "instance forgotten" : end;
      if (why === null && now - this.started >= this.confirmMs(alert.rule)) {
        why = "not confirmed by the data after a collector restart";
      }
      if (why === null) continue;
      this.#byKey.delete(key);
      // An alert about the instance's data ended with its last report.
      const endedAt = end !== null && alert.kind !== "absence" ? view!.lastSeen : undefined;
      out.push(endedAt === undefined ? { alert, why } : { alert, why, endedAt });
    }
    return out;
  }
}
