/**
 * Request metrics for HTTP servers, recorded into an agent's registry:
 *
 * - `http.requests_total{method, route, status}`: requests by status CLASS (`2xx`, ...)
 * - `http.request_duration_ms{method, route}`: a histogram of durations, in ms
 *
 * ```ts ignore
 * Deno.serve(instrument(handler, { metrics: agent.metrics, route: (req) => match(req) }));
 * http.createServer(instrumentNode(listener, { metrics: agent.metrics }));
 * ```
 *
 * `route` must return a route TEMPLATE (`/users/:id`), never the raw path: every distinct
 * value is a series, and raw paths are unbounded. Requests without a template are counted
 * under `other`. It is asked after the handler has run, so a router may record the template
 * it matched (e.g. in a WeakMap keyed by the request). Methods outside the standard set
 * count as `OTHER`. A handler that throws (or rejects) counts as `5xx`, and its error is
 * rethrown unchanged. Recording never throws into the app.
 *
 * Duration: for `instrument`, until the handler's Response is ready (headers; a streamed
 * body is not waited for); for `instrumentNode`, until the response is finished (or the
 * connection closed, with the status set by then). Plain Web and `node:*` APIs only: it
 * runs under Node 20 too.
 *
 * @module
 */
import type { MetricsRegistry } from "./registry.ts";

/** The metric names the middleware records. */
export const HTTP_METRICS = {
  requests: "http.requests_total",
  duration: "http.request_duration_ms",
} as const;

/** Route label for requests the app gave no template for. */
export const OTHER_ROUTE = "other";

/** Method label for methods outside {@link STANDARD_METHODS}. */
export const OTHER_METHOD = "OTHER";

/** Methods kept as they are; any other method is counted as `OTHER`. */
export const STANDARD_METHODS: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "CONNECT",
  "OPTIONS",
  "TRACE",
  "PATCH",
]);

/** Options shared by both middlewares. */
interface CommonOptions {
  /** Where to record: `agent.metrics` (or any registry). */
  metrics: Pick<MetricsRegistry, "counter" | "histogram">;
  /** Monotonic clock in ms (default `performance.now`). */
  clock?: () => number;
}

/** Options for {@link instrument}. */
export interface InstrumentOptions extends CommonOptions {
  /** The route template of a request, or undefined (counted as `other`). */
  route?: (req: Request) => string | undefined;
}

/** The parts of `node:http`'s IncomingMessage the middleware reads. */
export interface NodeRequestLike {
  method?: string;
}

/** The parts of `node:http`'s ServerResponse the middleware reads. */
export interface NodeResponseLike {
  statusCode: number;
  once(event: "finish" | "close", listener: () => void): unknown;
}

/** Options for {@link instrumentNode}. */
export interface InstrumentNodeOptions<Req extends NodeRequestLike> extends CommonOptions {
  /** The route template of a request, or undefined (counted as `other`). */
  route?: (req: Req) => string | undefined;
}

/** `2xx` for 200..299 and so on; anything outside 100..599 is a server error. */
export function statusClass(status: number): string {
  return status >= 100 && status <= 599 ? `${Math.floor(status / 100)}xx` : "5xx";
}

/** The method label: a standard method as is, anything else `OTHER`. */
export function methodLabel(method: string | undefined): string {
  return method !== undefined && STANDARD_METHODS.has(method) ? method : OTHER_METHOD;
}

/** Records one request; never throws. */
type Recorder<Req> = (req: Req, method: string | undefined, status: number, ms: number) => void;

function recorder<Req>(
  opts: CommonOptions,
  route: ((req: Req) => string | undefined) | undefined,
): Recorder<Req> {
  const requests = opts.metrics.counter(HTTP_METRICS.requests);
  const duration = opts.metrics.histogram(HTTP_METRICS.duration);
  return (req, method, status, ms) => {
    try {
      let r: string | undefined;
      try {
        r = route?.(req);
      } catch {
        r = undefined; // a failing route function must not fail the request
      }
      const labels = {
        method: methodLabel(method),
        route: typeof r === "string" && r.length > 0 ? r : OTHER_ROUTE,
      };
      requests.inc({ ...labels, status: statusClass(status) });
      duration.observe(ms, labels);
    } catch {
      // Recording must never break a request.
    }
  };
}

/**
 * Wrap a `Deno.serve` (or any `(Request) => Response`) handler so each request is counted
 * and timed. Extra handler arguments (`info`) are passed through.
 *
 * @example Request rate, latency and errors per route template
 * ```ts
 * import { instrument } from "./middleware.ts";
 * import { createRegistry } from "./registry.ts";
 *
 * const metrics = createRegistry();
 * const handler = (req: Request) =>
 *   new URL(req.url).pathname === "/health" ? new Response("ok") : new Response(null, { status: 404 });
 * const server = Deno.serve({ port: 0 }, instrument(handler, {
 *   metrics,
 *   route: (req) => new URL(req.url).pathname === "/health" ? "/health" : undefined,
 * }));
 * await server.shutdown();
 * ```
 */
export function instrument<A extends unknown[]>(
  handler: (req: Request, ...rest: A) => Response | Promise<Response>,
  opts: InstrumentOptions,
): (req: Request, ...rest: A) => Promise<Response> {
  const record = recorder<Request>(opts, opts.route);
  const clock = opts.clock ?? (() => performance.now());
  return async (req, ...rest) => {
    const started = clock();
    let res: Response;
    try {
      res = await handler(req, ...rest);
    } catch (e) {
      record(req, req.method, 500, clock() - started);
      throw e;
    }
    record(req, req.method, res.status, clock() - started);
    return res;
  };
}

/**
 * Wrap a `node:http` request listener so each request is counted and timed when its
 * response finishes. The listener's return value (a promise, for async listeners) is
 * passed through; a throw or rejection counts as `5xx` and is rethrown.
 *
 * @example The same for a Node app
 * ```ts
 * import http from "node:http";
 * import { instrumentNode } from "./middleware.ts";
 * import { createRegistry } from "./registry.ts";
 *
 * const metrics = createRegistry();
 * const hello = (_req: http.IncomingMessage, res: http.ServerResponse) => res.end("ok");
 * const server = http.createServer(instrumentNode(hello, { metrics }));
 * server.listen(0, "127.0.0.1", () => server.close());
 * ```
 */
export function instrumentNode<
  Req extends NodeRequestLike,
  Res extends NodeResponseLike,
  R,
>(
  listener: (req: Req, res: Res) => R,
  opts: InstrumentNodeOptions<Req>,
): (req: Req, res: Res) => R {
  const record = recorder<Req>(opts, opts.route);
  const clock = opts.clock ?? (() => performance.now());
  return (req, res) => {
    const started = clock();
    let done = false;
    const finish = (status?: number) => {
      if (done) return;
      done = true;
      record(req, req.method, status ?? res.statusCode, clock() - started);
    };
    try {
      res.once("finish", () => finish());
      res.once("close", () => finish());
    } catch {
      // Not a real response: still run the app's listener.
    }
    let out: R;
    try {
      out = listener(req, res);
    } catch (e) {
      finish(500);
      throw e;
    }
    if (out instanceof Promise) {
      return out.catch((e) => {
        finish(500);
        throw e;
      }) as R;
    }
    return out;
  };
}
