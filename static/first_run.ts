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

/**
 * What the empty live table says when every instance it knows has ended: where they went. An
 * instance known only from the remote-read cluster reports to another collector: it did not
 * end, and this collector (a stateless dashboard, say) has only its history.
 */
export function endedText(views: Iterable<{ elsewhere?: true }>): string {
  let elsewhere = 0;
  for (const v of views) if (v.elsewhere) elsewhere++;
  if (elsewhere === 0) {
    return "No instance has reported in the last 15 minutes: the earlier ones are in History.";
  }
  const n = elsewhere === 1 ? "1 instance reports" : `${elsewhere} instances report`;
  return `${n} to other collectors: their history, read from the cluster, is in History.`;
}
