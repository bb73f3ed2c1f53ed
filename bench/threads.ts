/**
 * This process's CPU time by thread, from /proc/self/task/<tid>/stat (utime + stime, 10 ms
 * ticks), grouped by what each thread does. bench/ingest.ts takes it at the start and end of
 * a run, so the collector's CPU per sample splits into its main thread, its history Worker,
 * V8's helper threads and ZMQ's I/O thread, beside the raw receive loop's.
 *
 * @module
 */

/** What a thread does, from its name (Linux keeps the first 15 bytes). */
export type ThreadKind = "main" | "history" | "v8" | "zmq" | "other";

/** Every kind, in the order reports list them. */
export const THREAD_KINDS: readonly ThreadKind[] = ["main", "history", "v8", "zmq", "other"];

/** The kind of a thread named `name`: Deno names the main thread after the executable. */
export function threadKind(name: string): ThreadKind {
  if (name === "deno") return "main";
  // Deno names a Web Worker's thread `worker-<n>`; the collector's only Worker is history's.
  if (/^worker-\d+$/.test(name)) return "history";
  if (name.startsWith("V8 ")) return "v8"; // the platform's workers: GC, compilers
  if (name.startsWith("ZMQbg/")) return "zmq"; // libzmq's I/O thread and reaper
  return "other"; // Deno's tokio threads: blocking file and socket work
}

/** CPU ms per live thread id, with its kind. */
export type ThreadTimes = Map<string, { kind: ThreadKind; ms: number }>;

/** Read every thread of this process now (empty where /proc is not there). */
export function threadTimes(): ThreadTimes {
  const out: ThreadTimes = new Map();
  let tids: string[];
  try {
    tids = Array.from(Deno.readDirSync("/proc/self/task"), (e) => e.name);
  } catch {
    return out;
  }
  for (const tid of tids) {
    let stat: string;
    try {
      stat = Deno.readTextFileSync(`/proc/self/task/${tid}/stat`);
    } catch {
      continue; // ended since the listing
    }
    const close = stat.lastIndexOf(")");
    const name = stat.slice(stat.indexOf("(") + 1, close);
    // Fields after the name: state is 3rd in stat(5), utime the 14th, stime the 15th.
    const f = stat.slice(close + 2).split(" ");
    out.set(tid, { kind: threadKind(name), ms: (Number(f[11]) + Number(f[12])) * 10 });
  }
  return out;
}

/**
 * CPU ms spent per kind between two readings. A thread that ended in between is missing
 * from `after` and its time is not counted (process-wide CPU, read separately, still has it).
 */
export function cpuByKind(before: ThreadTimes, after: ThreadTimes): Record<ThreadKind, number> {
  const out = { main: 0, history: 0, v8: 0, zmq: 0, other: 0 };
  for (const [tid, t] of after) out[t.kind] += t.ms - (before.get(tid)?.ms ?? 0);
  return out;
}
