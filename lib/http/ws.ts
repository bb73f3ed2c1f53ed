/**
 * `/ws`: upgrade to a WebSocket and hand the socket to the hub. Cross-origin pages are
 * refused (a page elsewhere must not read the metrics through the user's browser).
 *
 * @module
 */
import type { LiveClients } from "./deps.ts";
import { CHART_METRICS } from "../model/instance.ts";
import { splitKeyList } from "../metric_key.ts";

/** True when the request has no Origin (not a browser) or comes from this same host. */
export function sameOrigin(req: Request): boolean {
  const origin = req.headers.get("origin");
  if (origin === null) return true;
  try {
    return new URL(origin).host === req.headers.get("host");
  } catch {
    return false;
  }
}

/** Upgrade `/ws` and register the socket with the hub once it opens. */
export function upgrade(req: Request, url: URL, hub: LiveClients): Response {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return new Response("expected a WebSocket upgrade\n", { status: 426 });
  }
  if (!sameOrigin(req)) return new Response("cross-origin WebSocket refused\n", { status: 403 });
  const asked = url.searchParams.get("metrics");
  const metrics = asked === null
    ? [...CHART_METRICS]
    : asked === "*"
    ? null
    : splitKeyList(asked).slice(0, 64); // a labelled key's own commas do not split it
  // The client cap holds here, before the upgrade: refusing after it still cost a socket each.
  if (!hub.reserve()) {
    return new Response("too many live clients; try again later\n", {
      status: 503,
      headers: { "retry-after": "10" },
    });
  }
  let upgraded;
  try {
    upgraded = Deno.upgradeWebSocket(req, { idleTimeout: 60 });
  } catch (e) {
    hub.release();
    throw e;
  }
  const { socket, response } = upgraded;
  let remove: (() => void) | null = null;
  socket.onopen = () => {
    remove = hub.add(socket, metrics, true);
  };
  const gone = () => {
    if (remove === null) hub.release(); // never opened: give its place back
    else remove();
    remove = () => {};
  };
  socket.onclose = gone;
  socket.onerror = gone;
  socket.onmessage = () => {}; // the page sends nothing; anything it sends is ignored
  return response;
}
