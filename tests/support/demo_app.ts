/**
 * Test support: the seed's demo app (backend_app.ts) as a real process reporting to a
 * collector, and a JSON GET for the collector's API.
 *
 * @module
 */

const APP = new URL("../../backend_app.ts", import.meta.url).pathname;

/** Start backend_app.ts as `instance`, reporting every `intervalMs` to `collector`. */
export function demoApp(
  collector: string,
  instance: string,
  intervalMs: number,
  extra: string[] = [],
): Deno.ChildProcess {
  const flags = ["--instance", instance, "--interval", String(intervalMs)];
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", APP, ...extra, ...flags, "--collector", collector],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** GET `url` and parse its JSON body. */
export async function getJson<T>(url: string): Promise<T> {
  return await (await fetch(url)).json();
}
