/**
 * Wire protocol v1, the agent's side: the version it writes, the standard metric names, the
 * limits the collector enforces, and the encoder (one frame per call, the identity's part
 * turned into JSON once). The decoder and the types are in protocol.ts, which re-exports
 * everything here; an agent imports this module alone and never loads the decoder. See
 * docs/protocol.md.
 *
 * @module
 */
import type { Histogram, Identity } from "./protocol.ts";

/** Where agents push by default, and where the collector binds its PULL by default. */
export const DEFAULT_COLLECTOR = "tcp://127.0.0.1:5555";

/** Current protocol version, sent as `v`. */
export const PROTOCOL_VERSION = 1;

/** Standard metric names; units are part of the name. */
export const METRICS = {
  cpuPercent: "cpu.percent",
  rssBytes: "mem.rss_bytes",
  heapUsedBytes: "mem.heap_used_bytes",
  loopLagMs: "loop.lag_ms",
} as const;

/** Limits the decoder enforces; every one of them is a reject reason when exceeded. */
export const LIMITS = {
  /** Largest accepted frame, in bytes (the ZMQ socket enforces it too). */
  maxMessageBytes: 1024 * 1024,
  /** Longest service, instance, host or colour string, in UTF-16 code units. */
  maxNameLength: 128,
  /** Most metrics in one sample. */
  maxMetricsPerSample: 256,
  /** Most samples in one batch. */
  maxSamplesPerBatch: 1000,
  /** Most histograms in one sample. */
  maxHistogramsPerSample: 64,
} as const;

const encoder = new TextEncoder();

/** What an agent puts on the wire; the encoder's input. */
export interface OutgoingSample {
  seq: number;
  ts: number;
  metrics: Record<string, number>;
  hist?: Record<string, Histogram>;
}

/**
 * Encode samples from one instance as one frame: the single form for one sample, the
 * batch form for more. `sent` is the agent's clock at send time.
 */
export function encode(identity: Identity, samples: OutgoingSample[], sent: number): Uint8Array {
  return createEncoder(identity)(samples, sent);
}

/**
 * {@link encode} for one identity, whose part of the frame is turned into JSON once: an
 * agent encodes a frame every second, and its identity never changes. Each sample is
 * expected to hold only the fields of {@link OutgoingSample}. `bye` marks the agent's last
 * frame (a clean stop).
 */
export function createEncoder(
  identity: Identity,
): (samples: OutgoingSample[], sent: number, bye?: boolean) => Uint8Array {
  const head: Record<string, unknown> = {
    v: PROTOCOL_VERSION,
    service: identity.service,
    instance: identity.instance,
  };
  if (identity.pid !== null) head.pid = identity.pid;
  if (identity.host !== null) head.host = identity.host;
  if (identity.color !== null) head.color = identity.color;
  if (identity.intervalMs !== null) head.interval = identity.intervalMs;
  if (identity.start != null) head.start = identity.start;
  // `{"v":1,...` without its closing brace: the frame's fields follow.
  const open = JSON.stringify(head).slice(0, -1) + ',"sent":';
  return (samples, sent, bye = false) => {
    const at = JSON.stringify(sent) + (bye ? ',"bye":true' : "");
    if (samples.length === 1) {
      const { seq, ts, metrics, hist } = samples[0];
      // The single form: the sample's own fields after the identity's.
      const body = JSON.stringify(hist ? { seq, ts, metrics, hist } : { seq, ts, metrics });
      return encoder.encode(`${open}${at},${body.slice(1)}`);
    }
    return encoder.encode(`${open}${at},"samples":${JSON.stringify(samples)}}`);
  };
}
