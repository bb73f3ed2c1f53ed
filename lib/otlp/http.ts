/**
 * OTLP/HTTP metrics receiver: `POST /v1/metrics` with `application/x-protobuf` or
 * `application/json`, optionally `Content-Encoding: gzip`. The body is read with a bound on
 * its size as sent and again as decompressed (a gzip bomb stops at the bound), decoded once
 * (decode.ts), translated (translate.ts) and handed to ingest. Answers follow the OTLP spec:
 * 200 with an empty `ExportMetricsServiceResponse`, or one with `partial_success` when points
 * were rejected; 4xx with a `google.rpc.Status` in the request's encoding; 503 (retryable)
 * while the history thread is behind. Every refusal is counted in the collector's stats.
 *
 * @module
 */
import type { Message } from "../protocol.ts";
import { type CollectorStats, MAX_UNNAMED_SHOWN } from "../collector/stats.ts";
import type { Auth } from "../http/auth.ts";
import type { Encoding, OtlpCodec } from "./decode.ts";
import { translate } from "./translate.ts";
import { OtlpMemory } from "./histograms.ts";
import { UNNAMED_INSTANCE } from "./identity.ts";

/** The path OTLP/HTTP exporters send metrics to. */
export const OTLP_METRICS_PATH = "/v1/metrics";

/** Largest body accepted, bytes, both as sent and after gunzip. */
export const OTLP_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** What the receiver needs. */
export interface OtlpHandlerDeps {
  codec: OtlpCodec;
  /** Ingest's `accept`: returns how many values it refused. */
  accept: (message: Message) => number;
  stats: CollectorStats;
  /** The collector's token check (the same rule as the dashboard's), or null. */
  auth?: Auth | null;
  /** True while history cannot take more points: answer 503 so the SDK retries later. */
  busy?: () => boolean;
  /** Body bound, bytes (default {@link OTLP_MAX_BODY_BYTES}). */
  maxBodyBytes?: number;
  /** The collector's log: a service whose processes cannot be told apart is said once. */
  log?: (line: string) => void;
  /** What the translator remembers of cumulative histograms (default: its own, bounded). */
  memory?: OtlpMemory;
}

/** At most this many services are told about (and remembered) for an unnamed instance. */
const MAX_UNNAMED_TOLD = 1000;

const CONTENT_TYPES: Record<string, Encoding> = {
  "application/x-protobuf": "protobuf",
  "application/json": "json",
};

const MIME: Record<Encoding, string> = {
  protobuf: "application/x-protobuf",
  json: "application/json",
};

class TooLarge extends Error {}

/** Build the request handler for the OTLP listener. */
export function createOtlpHandler(deps: OtlpHandlerDeps): (req: Request) => Promise<Response> {
  const { codec, stats } = deps;
  const max = deps.maxBodyBytes ?? OTLP_MAX_BODY_BYTES;
  const memory = deps.memory ?? new OtlpMemory();
  /** Services already told that their processes share one instance. */
  const unnamed = new Set<string>();
  const tellUnnamed = (service: string) => {
    if (unnamed.has(service) || unnamed.size >= MAX_UNNAMED_TOLD) return;
    unnamed.add(service);
    if (stats.otlpUnnamed.length < MAX_UNNAMED_SHOWN) stats.otlpUnnamed.push(service);
    deps.log?.(
      `otlp: service ${JSON.stringify(service)} sends no service.instance.id, host.name or ` +
        `process.pid: all its processes are one instance, "${UNNAMED_INSTANCE}"; give each ` +
        `OTEL_RESOURCE_ATTRIBUTES=service.instance.id=NAME`,
    );
  };

  return async (req) => {
    const url = new URL(req.url);
    if (url.pathname !== OTLP_METRICS_PATH) {
      await req.body?.cancel();
      return text(
        404,
        `not found: this listener takes OTLP metrics at POST ${OTLP_METRICS_PATH}\n`,
      );
    }
    if (req.method !== "POST") {
      await req.body?.cancel();
      return text(405, "method not allowed: POST only\n", { allow: "POST" });
    }
    const denied = deps.auth?.check(req) ?? null;
    if (denied) {
      await req.body?.cancel();
      stats.refuse("unauthorized", `OTLP request without the right token`);
      return denied;
    }
    const type = (req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
    const encoding = CONTENT_TYPES[type];
    const contentEncoding = (req.headers.get("content-encoding") ?? "identity").trim()
      .toLowerCase();
    if (encoding === undefined || (contentEncoding !== "gzip" && contentEncoding !== "identity")) {
      await req.body?.cancel();
      const what = encoding === undefined
        ? `content type ${JSON.stringify(type.slice(0, 60))}`
        : `content encoding ${JSON.stringify(contentEncoding.slice(0, 30))}`;
      stats.refuse("unsupported_media_type", `OTLP ${what}`);
      return text(
        415,
        `unsupported ${what}: send application/x-protobuf or application/json, gzip or not\n`,
      );
    }
    const fail = (status: number, message: string) =>
      new Response(codec.encodeStatus(message, encoding), {
        status,
        headers: { "content-type": MIME[encoding] },
      });
    const declared = Number(req.headers.get("content-length") ?? "0");
    if (declared > max) {
      await req.body?.cancel();
      stats.refuse("too_large", `OTLP body of ${declared} bytes exceeds ${max}`);
      return fail(413, `body exceeds ${max} bytes`);
    }
    if (deps.busy?.()) {
      await req.body?.cancel();
      return new Response(codec.encodeStatus("busy: retry later", encoding, 14), {
        status: 503,
        headers: { "content-type": MIME[encoding], "retry-after": "5" },
      });
    }
    let body: Uint8Array;
    try {
      const raw = await readBounded(req.body, max);
      stats.bytes += raw.byteLength;
      body = contentEncoding === "gzip" ? await gunzipBounded(raw, max) : raw;
    } catch (e) {
      if (e instanceof TooLarge) {
        stats.refuse("too_large", `OTLP body exceeds ${max} bytes (${e.message})`);
        return fail(413, `body exceeds ${max} bytes ${e.message}`);
      }
      stats.refuse("invalid_gzip", `OTLP body is not valid gzip`);
      return fail(400, "body is not valid gzip");
    }
    const decoded = codec.decodeRequest(body, encoding);
    if (!decoded.ok) {
      stats.refuse(encoding === "json" ? "invalid_json" : "invalid_protobuf", decoded.detail);
      return fail(400, `cannot decode ExportMetricsServiceRequest: ${decoded.detail}`);
    }
    const translated = translate(decoded.request, memory);
    if (!translated.ok) {
      stats.refuse(translated.reason, `OTLP: ${translated.detail}`);
      return fail(400, translated.detail);
    }
    let rejected = 0;
    const why: string[] = [];
    for (const [reason, { count, detail }] of translated.rejected) {
      stats.refuse(reason, `OTLP: ${detail}`, count);
      rejected += count;
      why.push(`${count} ${reason} (${detail})`);
    }
    let refused = 0;
    for (const message of translated.messages) {
      refused += deps.accept(message);
      if (message.identity.host === null && message.identity.instance === UNNAMED_INSTANCE) {
        tellUnnamed(message.identity.service);
      }
    }
    if (refused > 0) {
      // Values refused at the instance or series limits: each was one point, or derived from
      // one, so this bounds the points lost from above.
      rejected = Math.min(translated.points, rejected + refused);
      why.push(`${refused} values over the collector's instance or series limits`);
    }
    return new Response(codec.encodeResponse(rejected, why.join("; "), encoding), {
      status: 200,
      headers: { "content-type": MIME[encoding] },
    });
  };
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

/** Read a stream to its end, or throw {@link TooLarge} past `max` bytes (and stop reading). */
async function readBounded(
  stream: ReadableStream<Uint8Array> | null,
  max: number,
  what = "as sent",
): Promise<Uint8Array> {
  if (!stream) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > max) {
        await reader.cancel().catch(() => {});
        throw new TooLarge(what);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Gunzip, stopping as soon as the output passes `max` bytes (a gzip bomb costs no more). */
function gunzipBounded(data: Uint8Array, max: number): Promise<Uint8Array> {
  const input = new Blob([data as Uint8Array<ArrayBuffer>]).stream();
  return readBounded(input.pipeThrough(new DecompressionStream("gzip")), max, "decompressed");
}
