/**
 * The collector's entry point: flags -> config -> start -> banner -> wait for a signal ->
 * clean stop (a second signal: exit at once). Everything else lives in lib/.
 *
 * @module
 */
import { helpHint } from "./lib/cli.ts";
import { ConfigError, resolveConfig, USAGE } from "./lib/config.ts";
import { startCollector } from "./lib/collector/collector.ts";
import { KeyError, loadServerKeys } from "./lib/transport/keys.ts";
import { isLoopback, loginUrl } from "./lib/http/auth.ts";
import { loadRules, RulesError } from "./lib/alerts/mod.ts";
import { collectingLine, rulesLine, runningLine } from "./lib/banner.ts";
import { redact } from "./lib/remote/url.ts";
import { errorMessage } from "./lib/errors.ts";
import { listenForSignals } from "./lib/signals.ts";
import { say } from "./lib/say.ts";
import { ensurePage } from "./lib/http/page_build.ts";

/** Run the collector until SIGINT, SIGTERM or SIGHUP; returns the exit code. */
export async function main(args: string[], start = startCollector): Promise<number> {
  let resolved;
  try {
    resolved = resolveConfig(args, Deno.env.toObject());
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(`error: ${e.message}\n${helpHint("deno task server")}`);
    return 2;
  }
  if (resolved.help) {
    console.log(USAGE);
    return 0;
  }
  const { config } = resolved;
  let curve = null;
  if (config.curveKey && config.curveAllow) {
    try {
      curve = await loadServerKeys(config.curveKey, config.curveAllow);
    } catch (e) {
      if (!(e instanceof KeyError)) throw e;
      console.error(`error: ${e.message}`);
      return 2;
    }
  }
  let rules;
  try {
    rules = config.rules ? await loadRules(config.rules) : undefined;
  } catch (e) {
    if (!(e instanceof RulesError)) throw e;
    console.error(`error: ${e.message}`);
    return 2;
  }
  // `deno task server` builds the page; `deno run -A server.ts` on a fresh clone had none.
  const page = await ensurePage(new URL("./static/", import.meta.url));
  if (page) (page.built ? console.log : console.error)(page.line);
  // Listening before the start: a SIGTERM right after the banner (a supervisor, a test) ended
  // the process (status 143) with no clean stop. One during the start stops it once started.
  // A second Ctrl-C while the stop waits (on a remote that does not answer, say) exits at
  // once, as a kill would: history loses at most its last second (the WAL), nothing else.
  // Closing the terminal (SIGHUP) is a clean stop too; from then on nothing can be printed
  // there, so every line from here on, the collector's log too, is best effort (`say`).
  const signals = listenForSignals(["SIGINT", "SIGTERM", "SIGHUP"], (again) => {
    say(`${again} again: exiting now, without finishing the stop`);
    Deno.exit(130);
  });
  let collector;
  try {
    collector = await start({
      httpHost: config.httpHost,
      httpPort: config.httpPort,
      zmq: config.zmq,
      sub: config.sub,
      subBind: config.subBind,
      windowMs: config.windowMs,
      dataDir: config.dataDir,
      retention: config.retention,
      maxDiskBytes: config.maxDiskBytes,
      token: config.token,
      secureCookie: config.secureCookie,
      allowedHosts: config.allowedHosts,
      curve,
      rules,
      otlp: config.otlp,
      remoteWrite: config.remoteWrite.map((url) => ({ url, headers: config.remoteWriteHeaders })),
      remoteRead: config.remoteRead
        ? { url: config.remoteRead, headers: config.remoteReadHeaders }
        : null,
      log: (line) => say(line, "err"),
    });
  } catch (e) {
    signals.dispose();
    say(`error: ${errorMessage(e)}`, "err");
    return 1;
  }
  say(runningLine(collector.httpUrl));
  say(`(Press CTRL+C to quit)`);
  say(collectingLine(collector.zmqEndpoint, config.sub));
  if (collector.subBindEndpoint) {
    say(`PUB apps connect to ${collector.subBindEndpoint} (identified by colour)`);
    if (!isLoopback(zmqHost(collector.subBindEndpoint))) {
      say("warning: the SUB listens beyond loopback: anyone who reaches it can send");
    }
  }
  say(
    collector.otlpUrl
      ? `OTLP/HTTP metrics on ${collector.otlpUrl}/v1/metrics`
      : "OTLP/HTTP off (--otlp none)",
  );
  say(config.dataDir ? `history in ${config.dataDir}` : "history in memory only");
  for (const url of config.remoteWrite) {
    say(
      `remote write to ${redact(url)} (${
        config.dataDir ? "queued in the WAL" : "queue in memory, lost on exit"
      })`,
    );
  }
  if (config.remoteRead) say(`older history read from ${redact(config.remoteRead)}`);
  say(rulesLine(config.rules, rules?.rules.length, rules?.webhooks.length));
  if (config.tokenGenerated && config.token) {
    const wildcard = config.httpHost === "0.0.0.0" || config.httpHost === "::";
    say(`dashboard token generated; open ${loginUrl(collector.httpUrl, config.token)}`);
    if (wildcard) say("(replace the address with this machine's name or address)");
  }
  if (curve) {
    say(`CURVE on: give agents the collector's public key ${curve.publicKey}`);
    if (curve.allow === null) {
      say("warning: --curve-allow any: agents are not authenticated");
    }
  } else if (!isLoopback(zmqHost(collector.zmqEndpoint))) {
    say(
      "warning: ZMQ listens beyond loopback without CURVE: anyone who reaches it can send",
    );
  }
  const signal = await signals.first;
  say(`${signal}: stopping (draining sockets, writing history)...`);
  await collector.stop();
  signals.dispose();
  say("stopped");
  return 0;
}

function zmqHost(endpoint: string): string {
  return /^tcp:\/\/(\[[^\]]+\]|[^:]+):/.exec(endpoint)?.[1] ?? "127.0.0.1";
}

if (import.meta.main) Deno.exit(await main(Deno.args));
