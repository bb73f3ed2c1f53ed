/**
 * `deno task watch`: report any process to zeroapm without changing it. Runs a command (or
 * watches `--pid`), reads the process from /proc and its cgroup v2, and reports through a
 * normal agent (`createAgent` with injected readers: same backlog and send semantics).
 * Forwards SIGINT, SIGTERM and SIGHUP to the command (with `--tree`, to its descendants too,
 * and waits for them), stops the agent cleanly, and exits with the command's status (its exit
 * code, or 128 + signal number).
 *
 * @module
 */
import os from "node:os";
import { collectorEndpoint, createAgent, endpointError } from "../agent/agent.ts";
import { rateLimitedReporter } from "../agent/report.ts";
import type { Transport } from "../agent/sender.ts";
import { connectCollector } from "../agent/transport.ts";
import { parseWatchArgs, USAGE } from "../sidecar/args.ts";
import { helpHint, UsageError } from "../cli.ts";
import { createWatchReaders, type WatchReaders } from "../sidecar/readers.ts";
import { clientKeysFromEnv } from "../transport/keys.ts";
import { errorMessage } from "../errors.ts";
import { listenForSignals, relaySignals } from "../signals.ts";
import { createTreeSignals } from "../sidecar/tree_signal.ts";

/** How long the watcher waits for a signalled tree (`--tree`) after its command exits, ms. */
export const TREE_STOP_MS = 10_000;

/** Signals passed on to the command. */
export const FORWARDED_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** Where main writes its own lines (tests capture them). */
export interface WatchIo {
  log(line: string): void;
  error(line: string): void;
}

/** Shell convention for a status: the exit code, or 128 + the signal's number. */
export function exitCodeOf(status: Deno.CommandStatus): number {
  if (status.signal) {
    const n = (os.constants.signals as Record<string, number>)[status.signal];
    if (n) return 128 + n;
  }
  return status.code;
}

/** Run the watcher; resolves with the exit code for this process. */
export async function main(argv: string[], io: WatchIo = console): Promise<number> {
  const usage = (msg: string) => {
    io.error(`watch: ${msg}\n${helpHint("deno task watch")}`);
    return 2;
  };
  let args;
  try {
    args = parseWatchArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) return usage(e.message);
    throw e;
  }
  if (args === null) {
    io.log(USAGE);
    return 0;
  }
  const collector = collectorEndpoint(args.collector);

  // Check everything the agent would refuse before starting anything.
  let transport: Transport;
  try {
    transport = connectCollector(collector, {
      curve: await clientKeysFromEnv(Deno.env.toObject()),
    });
  } catch (e) {
    return usage(endpointError(collector, args.collector, e));
  }
  const agentOptions = {
    service: args.service,
    color: args.color,
    intervalMs: args.intervalMs,
    // The agent's runtime health (loop lag, heap, fds, threads) would describe the sidecar.
    runtime: null,
    onError: () => {},
  };
  try {
    const dry = createAgent({
      ...agentOptions,
      instance: args.instance ?? "check",
      transport: { trySend: () => Promise.resolve(false), close() {} },
      readers: {
        read: () => ({ cpuPercent: 0, rssBytes: 0, heapUsedBytes: 0, loopLagMs: 0 }),
        close() {},
      },
    });
    await dry.stop();
  } catch (e) {
    transport.close();
    return usage(errorMessage(e));
  }

  let child: Deno.ChildProcess | null = null;
  let pid: number;
  if (args.command) {
    const [cmd, ...rest] = args.command;
    try {
      child = new Deno.Command(cmd, {
        args: rest,
        stdin: "inherit",
        stdout: "inherit",
        stderr: "inherit",
      }).spawn();
    } catch (e) {
      transport.close();
      io.error(`watch: cannot run "${cmd}": ${errorMessage(e)}`);
      return e instanceof Deno.errors.NotFound ? 127 : 126;
    }
    pid = child.pid;
  } else {
    pid = args.pid!;
  }

  // Signals: passed on to the command, each once (a terminal's Ctrl-C reaches it directly);
  // with --tree, to its descendants too (tree_signal.ts); with --pid, the first ends the
  // watch (the process is not ours).
  const command = child;
  const toCommand = (signal: Deno.Signal) => {
    try {
      command!.kill(signal);
    } catch { /* already exited */ }
  };
  const tree = command && args.tree ? createTreeSignals(command.pid, toCommand) : null;
  const relay = command
    ? relaySignals(FORWARDED_SIGNALS, (signal) => tree ? tree.signal(signal) : toCommand(signal))
    : null;
  const ending = command ? null : listenForSignals(FORWARDED_SIGNALS, () => {});

  let readers: WatchReaders | null = null;
  try {
    readers = createWatchReaders({ pid, tree: args.tree });
  } catch (e) {
    // A command that exited at once still gives its status; a missing --pid is an error.
    if (!child) io.error(`watch: ${errorMessage(e)}`);
  }
  const report = rateLimitedReporter({ prefix: `zeroapm watch ${args.service} (pid ${pid})` });
  const agent = readers
    ? createAgent({
      ...agentOptions,
      instance: args.instance,
      pid,
      readers,
      transport,
      collector, // named in the agent's notices
      onError: (e) => {
        if (!readers!.gone()) report(e);
      },
    })
    : null;
  if (agent) {
    // One line on stderr, as an app with the agent prints: where the readings go. The
    // command's own output stays as it was.
    const { service, instance } = agent.identity;
    io.error(
      `watch: ${service}/${instance} (pid ${pid}) reporting to ${collector} every ` +
        `${args.intervalMs} ms`,
    );
  } else transport.close();

  let code: number;
  if (child) {
    code = exitCodeOf(await child.status);
    // Told to stop, the whole tree was: the watch ends when it has (a shell exits at once,
    // what it started may take its time to stop cleanly).
    const left = await tree?.settled(TREE_STOP_MS);
    if (left?.length) {
      io.error(
        `watch: ${left.length} process(es) of the tree still running ${TREE_STOP_MS / 1000} s ` +
          `after the signal: pid ${left.map((p) => p.pid).join(", ")}`,
      );
    }
    if ((agent?.stats().seq ?? 0) === 0) {
      io.error(
        `watch: "${args.command!.join(" ")}" (pid ${pid}) exited with status ${code} before its ` +
          `first reading; nothing was reported`,
      );
    }
  } else if (!readers) {
    code = 1;
  } else {
    const r = readers;
    const exited = new Promise<number>((resolve) => {
      const timer = setInterval(() => {
        if (r.alive()) return;
        clearInterval(timer);
        resolve(0);
      }, Math.min(args.intervalMs, 250));
      ending!.first.then(() => clearInterval(timer));
    });
    code = await Promise.race([
      exited,
      ending!.first.then((s) => 128 + (os.constants.signals as Record<string, number>)[s]),
    ]);
  }
  relay?.dispose();
  ending?.dispose();
  await agent?.stop();
  return code;
}

if (import.meta.main) {
  // Let the event loop finish instead of Deno.exit(): the agent's last frames may be queued.
  Deno.exitCode = await main(Deno.args);
}
