/**
 * The collector's once-a-second round, as named jobs: each job runs in turn on every tick;
 * one that throws is logged under its name (at most once a minute per job, with a count)
 * and never stops the others or the round. A job whose failure was logged says so when it
 * works again (a disk that filled and was freed: the log said nothing more).
 *
 * @module
 */
import { errorMessage } from "../errors.ts";

/** One named job of the round. A promise it returns is not waited for: rejections are logged. */
export interface PeriodicJob {
  readonly name: string;
  run(now: number): void | Promise<void>;
}

/** Options for {@link startPeriodic}. */
export interface PeriodicOptions {
  everyMs: number;
  now: () => number;
  log: (line: string) => void;
  /** Shortest gap between two log lines of one job, ms (default one minute). */
  logEveryMs?: number;
}

/** A running round; dispose of it (or call `stop`) to end it. */
export interface Periodic extends Disposable {
  /** Run every job once, now (the timer does this every `everyMs`). */
  runOnce(): void;
  /** Failures per job name since start. */
  failures(): Record<string, number>;
  stop(): void;
}

/** Start running `jobs` every `everyMs`, in the order given. */
export function startPeriodic(jobs: readonly PeriodicJob[], opts: PeriodicOptions): Periodic {
  const logEveryMs = opts.logEveryMs ?? 60_000;
  const failed: Record<string, number> = {};
  const loggedAt = new Map<string, number>();
  // Jobs failing since their last success: failures, and whether one was logged.
  const failing = new Map<string, { n: number; told: boolean }>();
  const fail = (job: PeriodicJob, e: unknown) => {
    const n = (failed[job.name] = (failed[job.name] ?? 0) + 1);
    const run = failing.get(job.name) ?? { n: 0, told: false };
    failing.set(job.name, run);
    run.n++;
    const t = opts.now();
    const last = loggedAt.get(job.name);
    if (last !== undefined && t - last < logEveryMs) return;
    loggedAt.set(job.name, t);
    run.told = true;
    opts.log(`${job.name}: ${errorMessage(e)}${n > 1 ? ` (${n} failures so far)` : ""}`);
  };
  const ok = (job: PeriodicJob) => {
    const run = failing.get(job.name);
    if (!run) return;
    failing.delete(job.name);
    const rounds = `${run.n} failed round${run.n === 1 ? "" : "s"}`;
    if (run.told) opts.log(`${job.name}: working again after ${rounds}`);
  };
  const runOnce = () => {
    const t = opts.now();
    for (const job of jobs) {
      try {
        const done = job.run(t);
        if (done instanceof Promise) done.then(() => ok(job), (e) => fail(job, e));
        else ok(job);
      } catch (e) {
        fail(job, e);
      }
    }
  };
  const timer: ReturnType<typeof setInterval> = setInterval(runOnce, opts.everyMs);
  const stop = () => clearInterval(timer);
  return { runOnce, failures: () => ({ ...failed }), stop, [Symbol.dispose]: stop };
}
