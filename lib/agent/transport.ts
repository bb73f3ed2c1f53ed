/**
 * The agent's link to its collector. Plain links speak ZMTP through lib/transport/zmtp/push.ts,
 * so an app never loads the native zeromq binding (~11 MB of RSS and a poller thread under
 * Deno). CURVE links need libzmq's crypto: only then is lib/transport/zmq.ts (npm:zeromq) imported,
 * on first use. Both refuse a bad endpoint or key at once, so a typo fails at startup.
 *
 * @module
 */
import { isKey } from "../transport/keys.ts";
import type { CurveClientOptions, Sender } from "../transport/zmq.ts";
import { dialDefault, type Dialer, parseEndpoint } from "../transport/zmtp/dial.ts";
import { connectZmtpPush } from "../transport/zmtp/push.ts";
import type { Transport } from "./sender.ts";

/** Options for {@link connectCollector}. */
export interface CollectorLinkOptions {
  /** CURVE client keys; absent: plain ZMTP. */
  curve?: CurveClientOptions;
  /** A collector that cannot be used (wrong mechanism, not ZMTP, libzmq load failure). */
  onError?: (error: unknown) => void;
  /** CURVE only: how the listener is probed while frames are refused (tests). */
  dial?: Dialer;
}

/** While a CURVE link takes no frame, how often whether anything listens is checked, ms. */
const PROBE_EVERY_MS = 5000;

/**
 * Why a CURVE link takes no frames, when a listener answers: libzmq says nothing of a refused
 * handshake (a wrong collector key, an agent not on its allowlist), so the agent could only
 * report "no collector" while one was running.
 */
export const CURVE_REFUSED = "it accepts connections but not this agent's CURVE handshake: " +
  "check that the server key is the collector's public key and that this agent's public key " +
  "is on the collector's --curve-allow list";

/** Connect to a collector's PULL endpoint (`tcp://HOST:PORT` or `ipc://PATH`). */
export function connectCollector(endpoint: string, opts: CollectorLinkOptions = {}): Transport {
  parseEndpoint(endpoint);
  const curve = opts.curve;
  if (!curve) return connectZmtpPush(endpoint, { onError: opts.onError });
  for (const [name, key] of Object.entries(curve)) {
    if (!isKey(key)) throw new TypeError(`curve.${name} must be a 40-character Z85 CURVE key`);
  }
  let sender: Sender | null = null;
  let closed = false;
  const loading = import("../transport/zmq.ts").then((zmq) => {
    if (!closed) sender = zmq.connectPush(endpoint, { curve });
    return sender;
  });
  // No frame ever taken: is something listening there? Then it refuses this agent's keys.
  // (Once frames went in, refusals are a full queue or a collector gone, not keys.)
  const target = parseEndpoint(endpoint);
  const dial = opts.dial ?? dialDefault;
  let problem: string | null = null;
  let probedAt = -Infinity;
  let taken = false;
  const probe = () => {
    if (taken || performance.now() - probedAt < PROBE_EVERY_MS) return;
    probedAt = performance.now();
    dial(target).then((c) => {
      c.close();
      if (!taken) problem = CURVE_REFUSED;
    }, () => problem = null); // nothing listens: no collector, as said
  };
  return {
    async trySend(frame) {
      const s = await loading;
      const ok = s ? await s.trySend(frame) : false;
      if (ok) [taken, problem] = [true, null];
      else if (s) probe();
      return ok;
    },
    close() {
      closed = true;
      sender?.close();
    },
    problem: () => problem,
  };
}
