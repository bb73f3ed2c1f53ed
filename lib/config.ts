/**
 * The collector's options: typed, with documented defaults, resolved once from flags and
 * environment. A bad value is a {@link ConfigError} that says which option and why.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { UsageError } from "./cli.ts";
import { DEFAULT_RETENTION, type Retention } from "./store/query.ts";
import { isLoopback, resolveToken, TokenError } from "./token.ts";
import { errorMessage } from "./errors.ts";
import { DEFAULT_COLLECTOR } from "./protocol_encode.ts";

/** Resolved collector configuration. */
export interface Config {
  httpHost: string;
  httpPort: number;
  zmq: string;
  /** Optional PUB endpoint to subscribe to (the seed prototype's senders). */
  sub: string | null;
  /** Optional endpoint to bind a SUB on, for PUB apps that connect (the seed's own apps). */
  subBind: string | null;
  /** How much history the live view keeps in memory, ms. */
  windowMs: number;
  /** Directory for durable history, or null for memory only (`--data none`). */
  dataDir: string | null;
  retention: Retention;
  /** Cap on the history database size, bytes (null: none). */
  maxDiskBytes: number | null;
  /** HTTP token (null: none, allowed only on loopback). */
  token: string | null;
  /** True when the token was generated here (the server prints the URL to open). */
  tokenGenerated: boolean;
  /** The collector's CURVE secret key file, and the agent allowlist file or "any". */
  curveKey: string | null;
  curveAllow: string | null;
  /** Mark the token cookie Secure (the collector sits behind a TLS proxy). */
  secureCookie: boolean;
  /**
   * Host names HTTP answers for besides the bound address and localhost (`*`: any); other
   * `Host` headers get 421, against DNS rebinding (docs/security.md).
   */
  allowedHosts: string[];
  /** Alert rule file (YAML, docs/alerts.md), or null for the built-in rules. */
  rules: string | null;
  /** OTLP/HTTP metrics listener `HOST:PORT`, or null (`--otlp none`). */
  otlp: string | null;
  /** Prometheus remote-write URLs, and headers sent with each request (auth). */
  remoteWrite: string[];
  remoteWriteHeaders: Record<string, string>;
  /** A Prometheus query API base to read older history from, and its headers. */
  remoteRead: string | null;
  remoteReadHeaders: Record<string, string>;
}

/** Defaults: loopback only, the seed's ports. */
export const DEFAULTS: Config = {
  httpHost: "127.0.0.1",
  httpPort: 8000,
  zmq: DEFAULT_COLLECTOR,
  sub: null,
  subBind: null,
  windowMs: 15 * 60_000,
  dataDir: "./.zeroapm",
  retention: DEFAULT_RETENTION,
  maxDiskBytes: null,
  token: null,
  tokenGenerated: false,
  curveKey: null,
  curveAllow: null,
  secureCookie: false,
  allowedHosts: [],
  rules: null,
  otlp: "127.0.0.1:4318",
  remoteWrite: [],
  remoteWriteHeaders: {},
  remoteRead: null,
  remoteReadHeaders: {},
};

/** `--help` text. */
export const USAGE = `zeroapm collector

Usage: deno task server [options]

Options:
  --http HOST:PORT   dashboard and API address      (env ZEROAPM_HTTP, default 127.0.0.1:8000)
  --zmq ENDPOINT     ZMQ PULL endpoint agents push to (env ZEROAPM_ZMQ, default tcp://127.0.0.1:5555)
  --otlp HOST:PORT   OpenTelemetry OTLP/HTTP metrics (POST /v1/metrics); "none" turns it off
                                                    (env ZEROAPM_OTLP, default 127.0.0.1:4318)
  --sub ENDPOINT     also subscribe to a PUB endpoint (the seed prototype's apps)  (env ZEROAPM_SUB)
  --sub-bind ENDPOINT
                     also bind a SUB that PUB apps connect to, as the seed's collector did:
                     tcp://127.0.0.1:5555 for the book's apps (then move --zmq elsewhere)
                                                    (env ZEROAPM_SUB_BIND)
  --window MINUTES   minutes of history kept in memory for live charts (default 15)
  --data DIR         durable history directory; "none" keeps memory only
                                                    (env ZEROAPM_DATA, default ./.zeroapm)
  --retention LIST   how long each tier is kept: raw=3d,1m=90d,1h=2y (the defaults);
                     name only the tiers to change; units s, m, h, d, w, y
  --max-disk SIZE    cap the history database, e.g. 500MB or 10GB (default: no cap);
                     over it, the oldest raw data goes first, then 1m, then 1h buckets
  --rules FILE       alert rules and webhooks, YAML (env ZEROAPM_RULES; see docs/alerts.md;
                     default: built-in leak, silence and CPU rules)
  --token TOKEN      required on the API, the page, /ws and OTLP (env ZEROAPM_TOKEN); when
                     --http or --otlp is not loopback one is generated and printed if not given
  --secure-cookie    mark the token cookie Secure (behind a TLS proxy)
  --allowed-host NAME  also answer HTTP for this Host name (repeat it, or comma-separate;
                     env ZEROAPM_ALLOWED_HOST); others than the bound address and localhost
                     get 421 (DNS rebinding); "*" allows any
  --curve-key FILE   encrypt and authenticate ZMQ with CURVE: the collector's secret key
                     (env ZEROAPM_CURVE_KEY; make one with deno task keygen)
  --curve-allow FILE agent public keys allowed to send, one per line, or "any"
                     (env ZEROAPM_CURVE_ALLOW)
  --remote-write URL send every sample to a Prometheus remote-write endpoint, e.g.
                     http://vm:8428/api/v1/write (repeatable; env ZEROAPM_REMOTE_WRITE,
                     comma separated); queued in the data directory's WAL (see docs/scaling.md)
  --remote-write-header "Name: value"
                     a header for remote write, e.g. "Authorization: Bearer T" (repeatable)
  --remote-read URL  a Prometheus query API base (e.g. http://vm:8428) that answers history
                     older than this collector's and lists instances only it knows
                     (env ZEROAPM_REMOTE_READ)
  --remote-read-header "Name: value"
                     a header for remote read (repeatable)
  -h, --help         show this help

Both addresses listen on loopback unless you say otherwise. See docs/security.md.`;

/** A configuration mistake, worded for the person who made it. */
export class ConfigError extends UsageError {}

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
        otlp: { type: "string" },
        sub: { type: "string" },
        "sub-bind": { type: "string" },
        window: { type: "string" },
        data: { type: "string" },
        retention: { type: "string" },
        "max-disk": { type: "string" },
        token: { type: "string" },
        "secure-cookie": { type: "boolean" },
        "allowed-host": { type: "string", multiple: true },
        "curve-key": { type: "string" },
        "curve-allow": { type: "string" },
        rules: { type: "string" },
        "remote-write": { type: "string", multiple: true },
        "remote-write-header": { type: "string", multiple: true },
        "remote-read": { type: "string" },
        "remote-read-header": { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new ConfigError(errorMessage(e));
  }
  if (values.help) return { help: true };
  const http = parseHostPort(values.http ?? env.ZEROAPM_HTTP, "--http");
  const zmq = endpoint(values.zmq ?? env.ZEROAPM_ZMQ ?? DEFAULTS.zmq, "--zmq");
  const subRaw = values.sub ?? env.ZEROAPM_SUB;
  const subBindRaw = values["sub-bind"] ?? env.ZEROAPM_SUB_BIND;
  const subBind = subBindRaw ? endpoint(subBindRaw, "--sub-bind") : null;
  if (subBind !== null && subBind === zmq) {
    throw new ConfigError(
      `--sub-bind and --zmq both bind ${zmq}: give the PULL another port, e.g. --zmq tcp://127.0.0.1:5556`,
    );
  }
  const windowMin = values.window === undefined
    ? DEFAULTS.windowMs / 60_000
    : Number(values.window);
  if (!Number.isFinite(windowMin) || windowMin < 1 || windowMin > 24 * 60) {
    throw new ConfigError(`--window must be minutes between 1 and 1440, got ${values.window}`);
  }
  const httpHost = http?.host ?? DEFAULTS.httpHost;
  const otlp = otlpAddress(values.otlp ?? env.ZEROAPM_OTLP ?? DEFAULTS.otlp!);
  // One token rule for both HTTP listeners: either beyond loopback needs a token.
  const otlpHost = otlp === null ? null : parseHostPort(otlp, "--otlp")!.host;
  const exposed = otlpHost !== null && !isLoopback(otlpHost) ? otlpHost : httpHost;
  let token;
  try {
    token = resolveToken(
      isLoopback(httpHost) ? exposed : httpHost,
      values.token ?? env.ZEROAPM_TOKEN,
    );
  } catch (e) {
    if (e instanceof TokenError) throw new ConfigError(`--token: ${e.message}`);
    throw e;
  }
  const curveKey = values["curve-key"] ?? env.ZEROAPM_CURVE_KEY ?? null;
  const curveAllow = values["curve-allow"] ?? env.ZEROAPM_CURVE_ALLOW ?? null;
  if ((curveKey === null) !== (curveAllow === null)) {
    throw new ConfigError(
      "--curve-key and --curve-allow go together: give the collector's key and an allowlist file (or any)",
    );
  }
  const remoteRead = (values["remote-read"] ?? env.ZEROAPM_REMOTE_READ ?? "").trim();
  const remoteWrite = (values["remote-write"] ?? env.ZEROAPM_REMOTE_WRITE?.split(",") ?? [])
    .map((u) => u.trim()).filter((u) => u !== "").map((u) => httpUrl(u, "--remote-write"));
  // A header with no remote (an EnvironmentFile not loaded, say) would start and send nothing.
  const lonely = (flag: string, env: string) =>
    new ConfigError(`${flag}-header without a remote: give ${flag} URL (or ${env})`);
  if (remoteWrite.length === 0 && values["remote-write-header"]?.length) {
    throw lonely("--remote-write", "ZEROAPM_REMOTE_WRITE");
  }
  if (remoteRead === "" && values["remote-read-header"]?.length) {
    throw lonely("--remote-read", "ZEROAPM_REMOTE_READ");
  }
  return {
    help: false,
    config: {
      httpHost,
      httpPort: http?.port ?? DEFAULTS.httpPort,
      zmq,
      sub: subRaw ? endpoint(subRaw, "--sub") : null,
      subBind,
      windowMs: windowMin * 60_000,
      dataDir: dataDir(values.data ?? env.ZEROAPM_DATA ?? DEFAULTS.dataDir!),
      retention: values.retention === undefined ? DEFAULTS.retention : retention(values.retention),
      maxDiskBytes: values["max-disk"] === undefined ? null : size(values["max-disk"]),
      token: token.token,
      tokenGenerated: token.generated,
      curveKey,
      curveAllow,
      secureCookie: values["secure-cookie"] ?? false,
      allowedHosts: allowedHosts(values["allowed-host"] ?? env.ZEROAPM_ALLOWED_HOST?.split(",")),
      rules: values.rules ?? env.ZEROAPM_RULES ?? null,
      otlp,
      remoteWrite,
      remoteWriteHeaders: headers(values["remote-write-header"] ?? [], "--remote-write-header"),
      remoteRead: remoteRead ? httpUrl(remoteRead, "--remote-read") : null,
      remoteReadHeaders: headers(values["remote-read-header"] ?? [], "--remote-read-header"),
    },
  };
}

/** `HOST:PORT` (IPv6 in brackets) -> host and port; null for nothing given. */
export function parseHostPort(
  v: string | undefined,
  flag: string,
): { host: string; port: number } | null {
  if (v === undefined || v === "") return null;
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    throw new ConfigError(`${flag} must be HOST:PORT (e.g. 127.0.0.1:8000), got ${v}`);
  }
  return { host: m[1].replace(/^\[|\]$/g, ""), port };
}

function allowedHosts(given: string[] | undefined): string[] {
  const out: string[] = [];
  for (const raw of (given ?? []).flatMap((g) => g.split(","))) {
    const name = raw.trim().toLowerCase();
    if (name === "") continue;
    if (name !== "*" && !/^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(:\d{1,5})?$/.test(name)) {
      throw new ConfigError(
        `--allowed-host must be a host name such as apm.example.com (or "*"), got ${raw}`,
      );
    }
    out.push(name);
  }
  return out;
}

function otlpAddress(v: string): string | null {
  if (v === "none") return null;
  let address = null;
  try {
    address = parseHostPort(v, "--otlp");
  } catch { /* said below, with the OTLP port as the example */ }
  if (address === null) {
    throw new ConfigError(
      `--otlp must be HOST:PORT (e.g. 127.0.0.1:4318) or "none", got ${v || "nothing"}`,
    );
  }
  return v;
}

function endpoint(v: string, flag: string): string {
  const m = /^(?:tcp:\/\/[^\s]+:(\d+|\*)|ipc:\/\/\S+|inproc:\/\/\S+)$/.exec(v);
  if (!m || (m[1] !== undefined && m[1] !== "*" && Number(m[1]) > 65535)) {
    throw new ConfigError(`${flag} must be a ZMQ endpoint such as tcp://127.0.0.1:5555, got ${v}`);
  }
  return v;
}

function httpUrl(v: string, flag: string): string {
  let u: URL | null = null;
  try {
    u = new URL(v);
  } catch { /* said below */ }
  if (!u || (u.protocol !== "http:" && u.protocol !== "https:")) {
    throw new ConfigError(
      `${flag} must be an http:// or https:// URL such as http://127.0.0.1:8428/api/v1/write`,
    );
  }
  return v;
}

/** `Name: value` lines into headers; the values are secrets, so no error repeats one. */
function headers(lines: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines) {
    const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):\s*(.*)$/.exec(line);
    if (!m || m[2].trim() === "" || /[\r\n]/.test(m[2])) {
      throw new ConfigError(`${flag} must be "Name: value", e.g. "Authorization: Bearer TOKEN"`);
    }
    out[m[1].toLowerCase()] = m[2].trim();
  }
  return out;
}

function dataDir(v: string): string | null {
  if (v === "none") return null;
  if (v.trim() === "") throw new ConfigError(`--data must be a directory or "none"`);
  return v;
}

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  y: 365 * 86_400_000,
};

/** A duration like `90d` in ms. */
export function duration(v: string, flag: string): number {
  const m = /^(\d+)([smhdwy])$/.exec(v.trim());
  if (!m || Number(m[1]) === 0) {
    throw new ConfigError(`${flag}: ${JSON.stringify(v)} is not a duration such as 90d or 12h`);
  }
  return Number(m[1]) * UNIT_MS[m[2]];
}

const TIER_KEYS: Record<string, keyof Retention> = {
  raw: "rawMs",
  "1m": "minuteMs",
  "1h": "hourMs",
};

function retention(v: string): Retention {
  const out = { ...DEFAULTS.retention };
  for (const part of v.split(",")) {
    const [tier, value, extra] = part.split("=");
    if (value === undefined || extra !== undefined || !Object.hasOwn(TIER_KEYS, tier.trim())) {
      throw new ConfigError(
        `--retention: ${JSON.stringify(part)} must be TIER=DURATION with TIER raw, 1m or 1h`,
      );
    }
    out[TIER_KEYS[tier.trim()]] = duration(value, `--retention ${tier.trim()}`);
  }
  if (!(out.rawMs <= out.minuteMs && out.minuteMs <= out.hourMs)) {
    throw new ConfigError(
      "--retention: each coarser tier must be kept at least as long as a finer one",
    );
  }
  return out;
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

function size(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(v.trim());
  const unit = m ? m[2].toLowerCase() : "";
  if (!m || !Object.hasOwn(SIZE_UNITS, unit)) {
    throw new ConfigError(`--max-disk: ${JSON.stringify(v)} is not a size such as 500MB or 10GB`);
  }
  const bytes = Number(m[1]) * SIZE_UNITS[unit];
  if (bytes < 1e6) throw new ConfigError(`--max-disk: at least 1MB, got ${v}`);
  return bytes;
}
