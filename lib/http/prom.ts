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
  /** Latest value of every live instance's series (lib/prom/federate.ts), in parts. */
  federate(): Promise<string[]>;
}

/** A text exposition response, or 404 when the collector has no such endpoint. */
export async function promText(
  render: (() => string | Promise<string[]>) | undefined,
): Promise<Response> {
  if (!render) return json({ error: "not available" }, 404);
  const text = await render();
  // Parts go out one after another: a big exposition is never one string in memory.
  const body = typeof text === "string"
    ? text
    : ReadableStream.from(text).pipeThrough(new TextEncoderStream());
  return new Response(body, {
    headers: {
      "content-type": PROM_CONTENT_TYPE,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
}
