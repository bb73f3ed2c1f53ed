/**
 * The collector's HTTP surface as one function, `(Request) => Promise<Response>`, so tests
 * call it in-process with `new Request()` and `Deno.serve` runs it for real.
 *
 * @module
 */
import {
  type ApiDeps,
  collectorStats,
  health,
  json,
  listAlerts,
  listInstances,
  listProfiles,
  listServices,
} from "./api.ts";
import { serveStatic } from "./static.ts";
import { upgrade } from "./ws.ts";
import { type HistoryReader, seriesHandler } from "./series.ts";
import { type PromEndpoints, promText } from "./prom.ts";
import { isOtlpPost } from "./misdirected.ts";

/** What the handler needs. */
export interface HandlerDeps extends ApiDeps {
  /** The dashboard folder (a file: URL ending in `/`). */
  staticDir: URL;
  /** Answers `/api/series`. */
  history: HistoryReader;
  /** Answers `/metrics` and `/federate`; absent: both are 404. */
  prom?: PromEndpoints;
  /** Answers an OTLP export sent here instead of the OTLP port (misdirected.ts); absent: 405. */
  misdirectedOtlp?: (url: URL) => Response;
}

type Route = (deps: HandlerDeps, req: Request, url: URL) => Response | Promise<Response>;

const ROUTES: Record<string, Route> = {
  "/api/instances": (d) => listInstances(d),
  "/api/alerts": (d, _req, url) => listAlerts(d, url),
  "/api/profiles": (d, _req, url) => listProfiles(d, url),
  "/api/services": (d) => listServices(d),
  "/api/stats": (d) => collectorStats(d),
  "/api/series": (d, _req, url) => seriesHandler(url, d.history, d.now),
  "/metrics": (d) => promText(d.prom?.metrics),
  "/federate": (d) => promText(d.prom?.federate),
  "/healthz": (d) => health(d),
  "/ws": (d, req, url) => upgrade(req, url, d.hub),
};

/** Build the request handler. */
export function createHandler(deps: HandlerDeps): (req: Request) => Promise<Response> {
  return async (req) => {
    const url = new URL(req.url);
    if (deps.misdirectedOtlp && isOtlpPost(req, url)) return deps.misdirectedOtlp(url);
    if (req.method !== "GET" && req.method !== "HEAD") {
      return json({ error: `method ${req.method} not allowed` }, 405);
    }
    const route = Object.hasOwn(ROUTES, url.pathname) ? ROUTES[url.pathname] : undefined;
    if (route) return await route(deps, req, url);
    return (await serveStatic(url.pathname, deps.staticDir)) ??
      json({ error: `no such path: ${url.pathname}` }, 404);
  };
}
