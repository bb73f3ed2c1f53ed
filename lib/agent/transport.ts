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
import { parseEndpoint } from "../transport/zmtp/dial.ts";
import { connectZmtpPush } from "../transport/zmtp/push.ts";
import type { Transport } from "./sender.ts";

/** Options for {@link connectCollector}. */
export interface CollectorLinkOptions {
  /** CURVE client keys; absent: plain ZMTP. */
  curve?: CurveClientOptions;
  /** A collector that cannot be used (wrong mechanism, not ZMTP, libzmq load failure). */
  onError?: (error: unknown) => void;
}

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
  return {
    async trySend(frame) {
      const s = await loading;
      return s ? s.trySend(frame) : false;
    },
    close() {
      closed = true;
      sender?.close();
    },
  };
}
