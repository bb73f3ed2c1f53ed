/**
 * The dashboard's script is a bundle that `deno task build` writes to `static/dist/`, which is
 * build output and not in the repository. `deno task server` and `deno task demo` build it
 * first; `deno run -A server.ts` on a fresh clone (a container, a systemd unit, the examples
 * in docs/scaling.md) did not, and its page stayed blank behind a 503 that nobody saw. The
 * collector's entry now builds the page when a file of it is missing, with that same task, and
 * says so; when it cannot (no `--allow-run`, a read-only checkout) it says what to run.
 *
 * Only a missing page is built: a page that is there is served as it is, so collectors and
 * tests sharing one checkout never rewrite it under each other.
 *
 * @module
 */
import { errorMessage } from "../errors.ts";

/** The built files the page cannot do without, relative to `static/`. */
export const PAGE_FILES = ["dist/app.js", "dist/uplot.css"] as const;

/** Builds the page in `root`, the directory holding deno.json; rejects with the reason. */
export type BuildPage = (root: URL) => Promise<void>;

/** What {@link ensurePage} did: built the page or not, and a line for the collector's output. */
export interface PageBuild {
  built: boolean;
  line: string;
}

/** Run `deno task build` in `root`; rejects with the last line the build wrote to stderr. */
export async function runBuildTask(root: URL): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "build"],
    cwd: root,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.success) return;
  const lines = new TextDecoder().decode(out.stderr).trim().split("\n");
  throw new Error(lines[lines.length - 1] || `deno task build exited with ${out.code}`);
}

/**
 * Build the page when one of {@link PAGE_FILES} is missing from `staticDir`; null when none
 * is. Never throws: a failed build leaves the collector running, and the line says why and
 * what to run (the page answers 503 with the same hint until then).
 */
export async function ensurePage(
  staticDir: URL,
  build: BuildPage = runBuildTask,
  clock: () => number = () => performance.now(),
): Promise<PageBuild | null> {
  const missing: string[] = [];
  for (const file of PAGE_FILES) {
    try {
      await Deno.stat(new URL(file, staticDir));
    } catch {
      missing.push(file);
    }
  }
  if (missing.length === 0) return null;
  const start = clock();
  try {
    await build(new URL("../", staticDir));
  } catch (e) {
    return {
      built: false,
      line: `warning: the dashboard is not built (static/${missing[0]} is missing) and ` +
        `building it failed: ${errorMessage(e)}. Run \`deno task build\`; until then the page ` +
        "does not load",
    };
  }
  const s = ((clock() - start) / 1000).toFixed(1);
  return { built: true, line: `dashboard built in ${s} s (static/dist/ was missing)` };
}
