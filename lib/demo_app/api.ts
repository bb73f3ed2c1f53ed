/**
 * The demo's small HTTP API (`--http PORT`): users and bookings with realistic latency and a
 * few errors, instrumented so the dashboard shows request rate, latency and errors per
 * route template.
 *
 * @module
 */
import { instrument, type MetricsRegistry } from "../agent/mod.ts";

/** The demo API's routes: the template is the `route` label, never the raw path. */
const ROUTES = [
  { method: "GET", template: "/users/:id", path: /^\/users\/(\d{1,12})$/ },
  { method: "POST", template: "/bookings", path: /^\/bookings$/ },
  { method: "GET", template: "/health", path: /^\/health$/ },
] as const;

/** The route a request matches, or undefined (counted as `other`). */
export function routeOf(req: Request): (typeof ROUTES)[number] | undefined {
  const { pathname } = new URL(req.url);
  return ROUTES.find((r) => r.path.test(pathname));
}

/** Options for {@link startApi}. */
export interface ApiOptions {
  /** Port on 127.0.0.1; 0 picks a free one (tests). */
  port: number;
  /** Where request metrics go (`agent.metrics`). */
  metrics: MetricsRegistry;
  /** Random source in [0, 1) (default `Math.random`). */
  random?: () => number;
}

/** A running demo API. */
export interface Api {
  /** Base URL, e.g. `http://127.0.0.1:8101`. */
  readonly url: string;
  /** Stop accepting, finish the requests in progress. */
  close(): Promise<void>;
}

/**
 * Serve the demo API, instrumented. Users and bookings take 0-5 ms, one in five 5-300 ms;
 * about 2 % of them fail with 500. Unknown paths are 404, wrong methods 405.
 */
export function startApi(opts: ApiOptions): Api {
  const random = opts.random ?? Math.random;
  let bookings = 0;
  const handler = async (req: Request): Promise<Response> => {
    const route = routeOf(req);
    if (!route) return Response.json({ error: "not found" }, { status: 404 });
    if (req.method !== route.method) {
      return Response.json({ error: "method not allowed" }, { status: 405 });
    }
    if (route.template === "/health") return new Response("ok");
    const ms = random() < 0.2 ? 5 + 295 * random() : 5 * random();
    await new Promise((r) => setTimeout(r, ms));
    if (random() < 0.02) return Response.json({ error: "internal error" }, { status: 500 });
    if (route.template === "/bookings") {
      await req.body?.cancel();
      return Response.json({ id: ++bookings }, { status: 201 });
    }
    const id = Number(route.path.exec(new URL(req.url).pathname)![1]);
    return Response.json({ id, name: `user ${id}` });
  };
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: opts.port,
    onListen() {},
  }, instrument(handler, { metrics: opts.metrics, route: (req) => routeOf(req)?.template }));
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    close: () => server.shutdown(),
  };
}
