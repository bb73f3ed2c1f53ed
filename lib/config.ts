/**
 * The collector's options: typed, with documented defaults, resolved once from flags and
 * environment. A bad value is a {@link ConfigError} that says which option and why.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** Resolved collector configuration. */
export interface Config {
  httpHost: string;
  httpPort: number;
  zmq: string;
  /** Optional PUB endpoint to subscribe to (the seed prototype's senders). */
  sub: string | null;
  /** How much history the live view keeps in memory, ms. */
  windowMs: number;
}

/** Defaults: loopback only, the seed's ports. */
export const DEFAULTS: Config = {
  httpHost: "127.0.0.1",
  httpPort: 8000,
  zmq: "tcp://127.0.0.1:5555",
  sub: null,
  windowMs: 15 * 60_000,
};

/** `--help` text. */
export const USAGE = `zeroapm collector

Usage: deno task server [options]

Options:
  --http HOST:PORT   dashboard and API address      (env ZEROAPM_HTTP, default 127.0.0.1:8000)
  --zmq ENDPOINT     ZMQ PULL endpoint agents push to (env ZEROAPM_ZMQ, default tcp://127.0.0.1:5555)
  --sub ENDPOINT     also subscribe to a PUB endpoint (the seed prototype's apps)  (env ZEROAPM_SUB)
  --window MINUTES   minutes of history kept in memory for live charts (default 15)
  -h, --help         show this help

Both addresses listen on loopback unless you say otherwise.`;

/** A configuration mistake, worded for the person who made it. */
export class ConfigError extends Error {}

/** Result of {@link resolveConfig}: a config, or the request for help. */
export type Resolved = { help: true } | { help: false; config: Config };

/** Resolve flags (winning) and environment into a config. */
export function resolveConfig(args: string[], env: Record<string, string | undefined>): Resolved {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        http: { type: "string" },
        zmq: { type: "string" },
        sub: { type: "string" },
        window: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  if (values.help) return { help: true };
  const http = parseHostPort(values.http ?? env.ZEROAPM_HTTP, "--http");
  const zmq = endpoint(values.zmq ?? env.ZEROAPM_ZMQ ?? DEFAULTS.zmq, "--zmq");
  const subRaw = values.sub ?? env.ZEROAPM_SUB;
  const windowMin = values.window === undefined
    ? DEFAULTS.windowMs / 60_000
    : Number(values.window);
  if (!Number.isFinite(windowMin) || windowMin < 1 || windowMin > 24 * 60) {
    throw new ConfigError(`--window must be minutes between 1 and 1440, got ${values.window}`);
  }
  return {
    help: false,
    config: {
      httpHost: http?.host ?? DEFAULTS.httpHost,
      httpPort: http?.port ?? DEFAULTS.httpPort,
      zmq,
      sub: subRaw ? endpoint(subRaw, "--sub") : null,
      windowMs: windowMin * 60_000,
    },
  };
}

function parseHostPort(v: string | undefined, flag: string): { host: string; port: number } | null {
  if (v === undefined || v === "") return null;
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    throw new ConfigError(`${flag} must be HOST:PORT (e.g. 127.0.0.1:8000), got ${v}`);
  }
  return { host: m[1].replace(/^\[|\]$/g, ""), port };
}

function endpoint(v: string, flag: string): string {
  const m = /^(?:tcp:\/\/[^\s]+:(\d+|\*)|ipc:\/\/\S+|inproc:\/\/\S+)$/.exec(v);
  if (!m || (m[1] !== undefined && m[1] !== "*" && Number(m[1]) > 65535)) {
    throw new ConfigError(`${flag} must be a ZMQ endpoint such as tcp://127.0.0.1:5555, got ${v}`);
  }
  return v;
}
