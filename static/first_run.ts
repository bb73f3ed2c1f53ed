/**
 * The first-run hint: the command that starts a demo app reporting to this collector (a
 * collector whose agents' port is not the default needs the app's `--collector`, or the app
 * reports where nobody listens), and where an OpenTelemetry SDK exports to it.
 *
 * @module
 */
import { DEFAULT_COLLECTOR } from "../lib/protocol.ts";

/** `deno run -A backend_app.ts --color red`, with `--collector` when it is not the default. */
export function startCommand(agents: string | null): string {
  const command = "deno run -A backend_app.ts --color red";
  return agents === null || agents === DEFAULT_COLLECTOR
    ? command
    : `${command} --collector ${agents}`;
}

/** The environment an OpenTelemetry SDK needs to export to this collector; null without OTLP. */
export function otlpSetting(otlp: string | null): string | null {
  return otlp === null ? null : `OTEL_EXPORTER_OTLP_ENDPOINT=${otlp}`;
}
