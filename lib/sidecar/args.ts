/**
 * Command line of `deno task watch`: flags before `--`, the command after it (or `--pid`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { errorMessage } from "../errors.ts";

/** Usage text, printed with every usage error. */
export const USAGE = `usage: deno task watch --service NAME [options] -- CMD [ARGS...]
       deno task watch --service NAME [options] --pid PID

Runs CMD (or watches the running process PID) and reports its CPU, memory, threads, open
files and container limits to a zeroapm collector. Exits with CMD's status.

options:
  --service NAME       service name (required)
  --collector ENDPOINT collector ZMQ endpoint (default tcp://127.0.0.1:5555)
  --instance ID        instance id (default host:PID of the watched process)
  --color C            display colour
  --interval MS        sampling interval in ms (default 1000)
  --tree               sum over the process and all its descendants
  --pid PID            watch a running process instead of starting one`;

/** Parsed command line. */
export interface WatchArgs {
  service: string;
  collector?: string;
  instance?: string;
  color?: string;
  intervalMs: number;
  tree: boolean;
  /** Either a command to run ... */
  command?: string[];
  /** ... or a running process to watch. */
  pid?: number;
}

/** Parse; a string is a usage error to print (with {@link USAGE}) before exiting 2. */
export function parseWatchArgs(argv: string[]): WatchArgs | string {
  const dash = argv.indexOf("--");
  const flags = dash < 0 ? argv : argv.slice(0, dash);
  const command = dash < 0 ? [] : argv.slice(dash + 1);
  let v;
  try {
    v = parseArgs({
      args: flags,
      strict: true,
      allowPositionals: false,
      options: {
        service: { type: "string" },
        collector: { type: "string" },
        instance: { type: "string" },
        color: { type: "string" },
        interval: { type: "string" },
        tree: { type: "boolean" },
        pid: { type: "string" },
      },
    }).values;
  } catch (e) {
    return errorMessage(e).split("\n")[0];
  }
  if (!v.service) return "--service is required";
  const intervalMs = v.interval === undefined ? 1000 : Number(v.interval);
  if (!Number.isFinite(intervalMs) || intervalMs <= 0 || intervalMs > 86_400_000) {
    return `--interval must be a number of ms in (0, 86400000], not "${v.interval}"`;
  }
  const out: WatchArgs = { service: v.service, intervalMs, tree: v.tree ?? false };
  if (v.collector !== undefined) out.collector = v.collector;
  if (v.instance !== undefined) out.instance = v.instance;
  if (v.color !== undefined) out.color = v.color;
  if (v.pid !== undefined) {
    if (!/^\d+$/.test(v.pid) || Number(v.pid) <= 0) return `--pid must be a process id`;
    if (command.length > 0) return "give either --pid or a command after --, not both";
    out.pid = Number(v.pid);
  } else if (command.length === 0) {
    return "nothing to watch: give a command after -- (or --pid PID)";
  } else {
    out.command = command;
  }
  return out;
}
