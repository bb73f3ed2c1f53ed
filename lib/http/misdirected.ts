/**
 * An OpenTelemetry SDK pointed at the dashboard's port (OTEL_EXPORTER_OTLP_ENDPOINT set to the
 * URL the collector prints first) posts to `/v1/metrics` there. It got a bare 405, which the
 * SDK reports as "Method Not Allowed" (when it reports at all) and the collector's log did
 * not mention: an app running, an empty page, no clue. The dashboard's port now answers 404
 * with where OTLP goes, and the log says so once.
 *
 * @module
 */
import { json } from "./api.ts";

/** What {@link createMisdirectedOtlp} needs. */
export interface MisdirectedDeps {
  /** The OTLP listener's base URL, or null when it is off (`--otlp none`). */
  otlpUrl: () => string | null;
  log: (line: string) => void;
}

/** True for what an OTLP exporter sends: a POST under `/v1/` (metrics, traces, logs). */
export function isOtlpPost(req: Request, url: URL): boolean {
  return req.method === "POST" && url.pathname.startsWith("/v1/");
}

/** The answer to an OTLP export that reached the dashboard's port; logs the first one. */
export function createMisdirectedOtlp(deps: MisdirectedDeps): (url: URL) => Response {
  let said = false;
  return (url) => {
    const otlp = deps.otlpUrl();
    const where = otlp === null
      ? "this collector takes no OTLP (--otlp none)"
      : `OpenTelemetry SDKs export to ${otlp}${url.pathname} (OTEL_EXPORTER_OTLP_ENDPOINT=${otlp})`;
    const error = `this is the dashboard's port, not OTLP's: ${where}`;
    if (!said) {
      said = true;
      deps.log(`otlp: POST ${url.pathname} reached the dashboard's port: ${where}`);
    }
    return json({ error }, 404);
  };
}
