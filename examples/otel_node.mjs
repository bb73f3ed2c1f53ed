/**
 * A Node app reporting to zeroapm through OpenTelemetry, with no zeroapm code: its CPU and
 * memory (host-metrics' process.cpu.time and process.memory.usage) draw its lines, and an
 * HTTP server instrumentation's request durations, when the app has one, fill its service
 * card. Load it before the app:
 *
 *     OTEL_SERVICE_NAME=bookings node --import ./otel_node.mjs app.js
 *
 * It exports to http://localhost:4318/v1/metrics, the collector's OTLP default
 * (OTEL_EXPORTER_OTLP_ENDPOINT moves it), every OTEL_METRIC_EXPORT_INTERVAL ms (default 60 000;
 * zeroapm learns the interval from the exports and takes an instance as stale after 3 of
 * them). Packages:
 * npm install @opentelemetry/api @opentelemetry/sdk-metrics @opentelemetry/resources
 *   @opentelemetry/exporter-metrics-otlp-proto @opentelemetry/host-metrics
 */
import process from "node:process";
import { metrics } from "@opentelemetry/api";
import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import {
  detectResources,
  envDetector,
  hostDetector,
  processDetector,
} from "@opentelemetry/resources";
import { HostMetrics } from "@opentelemetry/host-metrics";

const provider = new MeterProvider({
  // OTEL_SERVICE_NAME is the service; host.name and process.pid make the instance, so each
  // process is a line of its own (without them every replica would be one "unknown" line).
  resource: detectResources({ detectors: [envDetector, hostDetector, processDetector] }),
  readers: [
    new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter(),
      exportIntervalMillis: Number(process.env.OTEL_METRIC_EXPORT_INTERVAL ?? 60_000),
    }),
  ],
});
new HostMetrics({ meterProvider: provider, metricGroups: ["process.cpu", "process.memory"] })
  .start();
// Instrumentations (an HTTP server's request durations) and the app's own metrics take their
// meters from the API: without this they record into a no-op provider, and nothing arrives.
metrics.setGlobalMeterProvider(provider);

// Send what is still unsent on the way out.
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.once(signal, () => provider.shutdown().finally(() => process.exit(0)));
}
