/**
 * The collector's entry point: flags -> config -> start -> banner -> wait for a signal ->
 * clean stop. Everything else lives in lib/.
 *
 * @module
 */
import { ConfigError, resolveConfig, USAGE } from "./lib/config.ts";
import { startCollector } from "./lib/collector/collector.ts";

/** Run the collector until SIGINT or SIGTERM; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let resolved;
  try {
    resolved = resolveConfig(args, Deno.env.toObject());
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(`error: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (resolved.help) {
    console.log(USAGE);
    return 0;
  }
  const { config } = resolved;
  let collector;
  try {
    collector = await startCollector({
      httpHost: config.httpHost,
      httpPort: config.httpPort,
      zmq: config.zmq,
      sub: config.sub,
      windowMs: config.windowMs,
      dataDir: config.dataDir,
      retention: config.retention,
      maxDiskBytes: config.maxDiskBytes,
    });
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    return 1;
  }
  console.log(`======== Running on ${collector.httpUrl} ========`);
  console.log(`(Press CTRL+C to quit)`);
  console.log(
    `collecting on ${collector.zmqEndpoint}${config.sub ? ` and from PUB ${config.sub}` : ""}`,
  );
  console.log(config.dataDir ? `history in ${config.dataDir}` : "history in memory only");
  const signal = await new Promise<Deno.Signal>((resolve) => {
    for (const s of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(s, () => resolve(s));
  });
  console.log(`${signal}: stopping (draining sockets, writing history)...`);
  await collector.stop();
  console.log("stopped");
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
