/**
 * The shape of the collector's queueing delay at arrival, as `/api/stats`, the `ingest` live
 * frame and `/metrics` report it (computed by lib/collector/queue_delay.ts).
 *
 * @module
 */

/** Queueing delay over the last minute, ms; null figures when nothing arrived. */
export interface QueueDelaySummary {
  /** Frames measured in the window. */
  count: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
  /** The window the figures cover, ms. */
  windowMs: number;
}
