/**
 * A Node app reporting to zeroapm through OpenTelemetry, with no zeroapm code: its CPU and
 * memory (host-metrics' process.cpu.time and process.memory.usage) draw its lines, and an
 * HTTP server instrumentation's request durations, when the app has one, fill its service
 * card. Load it before the app:
 *
 *     OTEL_SERVICE_NAME=bookings node --import ./otel_node.mjs app.js
 *
 * It exports to http://localhost:4318/v1/metrics, the collector's OTLP default
 * (OTEL_EXPORTER_OTLP_ENDPOINT moves it), every OTEL_METRIC_EXPORT_INTERVAL ms: 5 000 unless
 * set, not the SDKs' 60 000, so the app is on the page within seconds and its live lines move
 * (at 60 000 its CPU showed only after two minutes). zeroapm learns the interval from the
 * exports and takes an instance as stale after 3 of them. It says on stderr, once each, what keeps its metrics off the page: no
 * OTEL_SERVICE_NAME, points the collector refuses, exports that fail. On SIGTERM or Ctrl-C it
 * sends what is unsent, waiting at most 2 s for the collector. Packages:
 * npm install @opentelemetry/api @opentelemetry/sdk-metrics @opentelemetry/resources
 *   @opentelemetry/exporter-metrics-otlp-proto @opentelemetry/host-metrics
 */
import process from "node:process";
import { diag, DiagLogLevel, metrics } from "@opentelemetry/api";
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
      exportIntervalMillis: Number(process.env.OTEL_METRIC_EXPORT_INTERVAL || 5_000),
    }),
  ],
});
new HostMetrics({ meterProvider: provider, metricGroups: ["process.cpu", "process.memory"] })
  .start();
// Without a diag logger the SDK says nothing when exports fail (no collector there, the
// dashboard's port instead of the OTLP one) or the collector refuses points (no service.name):
// the app would run with nothing on the page and no clue why. Say each kind of problem once on
// stderr, with where the exports go. Set after HostMetrics, whose deprecation notice is for Node
// 22.15+ (@opentelemetry/instrumentation-host-metrics there reports the same metrics).
const said = new Set();
const notice = (hint) => (message, ...args) => {
  let text = [message, ...args.map((a) => typeof a === "string" ? a : JSON.stringify(a))]
    .join(" ");
  try {
    text = JSON.parse(text).message ?? text; // the SDK's error handler logs errors as JSON
  } catch { /* plain text */ }
  const kind = text.replace(/\d+/g, "#"); // counts and times differ export by export
  if (said.has(kind)) return;
  said.add(kind);
  console.error(`otel_node: ${text} (exporting to ${metricsEndpoint()}${hint})`);
};
const quiet = () => {};
const failed = notice(
  ": is zeroapm's OTLP listener there? It is the collector's --otlp address, " +
    "127.0.0.1:4318 unless moved, not the dashboard's port",
);
diag.setLogger({ error: failed, warn: notice(""), info: quiet, debug: quiet, verbose: quiet }, {
  logLevel: DiagLogLevel.WARN,
  suppressOverrideMessage: true,
});

const named = process.env.OTEL_SERVICE_NAME ||
  /(^|,)\s*service\.name=/.test(process.env.OTEL_RESOURCE_ATTRIBUTES ?? "");
if (!named) {
  console.error(
    "otel_node: OTEL_SERVICE_NAME is not set: zeroapm refuses metrics without a service",
  );
}

// Instrumentations (an HTTP server's request durations) and the app's own metrics take their
// meters from the API: without this they record into a no-op provider, and nothing arrives.
metrics.setGlobalMeterProvider(provider);

// Send what is still unsent on the way out, but do not hold the exit for it: with the collector
// away the exporter retries for about 10 s, and a stop took 11 s, past Docker's 10 s before
// SIGKILL (and every systemd restart waited as long).
const SHUTDOWN_MS = 2_000;
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.once(signal, () => {
    setTimeout(() => process.exit(0), SHUTDOWN_MS).unref();
    provider.shutdown().finally(() => process.exit(0));
  });
}

/** Where the exporter sends, as it works it out from the environment: for the notices above. */
function metricsEndpoint() {
  const env = process.env;
  if (env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT) return env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT || "http://localhost:4318";
  return `${base.replace(/\/$/, "")}/v1/metrics`;
}
