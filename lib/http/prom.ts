/**
 * `/metrics` and `/federate` over HTTP: the text exposition format, behind the same token
 * as `/api` (lib/http/auth.ts wraps every path but `/healthz`).
 *
 * @module
 */
import { PROM_CONTENT_TYPE } from "../prom/exposition.ts";
import { json } from "./api.ts";

/** What the two endpoints render: each returns a whole exposition. */
export interface PromEndpoints {
  /** The collector's own `zeroapm_*` metrics (lib/prom/self_metrics.ts and any provider added). */
  metrics(): string;
  /** Latest value of every live instance's series (lib/prom/federate.ts). */
  federate(): string;
}

/** A text exposition response, or 404 when the collector has no such endpoint. */
export function promText(render: (() => string) | undefined): Response {
  if (!render) return json({ error: "not available" }, 404);
  return new Response(render(), {
    headers: {
      "content-type": PROM_CONTENT_TYPE,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
}
