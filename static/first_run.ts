/**
 * The first-run hint: the command that starts a demo app reporting to this collector. A
 * collector whose agents' port is not the default needs the app's `--collector`, or the app
 * reports where nobody listens.
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
