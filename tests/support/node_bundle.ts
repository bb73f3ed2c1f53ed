/**
 * Test support: bundle lib/agent for Node 20 (zeromq left external) into a fresh directory
 * under the repo's git-ignored tmp/, so Node resolves `zeromq` from the repo's node_modules/.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Bundle the agent to `DIR/agent.mjs`; returns DIR (the caller removes it). */
export async function bundleAgentForNode(prefix: string): Promise<string> {
  await Deno.mkdir(`${ROOT}tmp`, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: `${ROOT}tmp`, prefix });
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "deno",
      "--external",
      "zeromq",
      "-o",
      `${dir}/agent.mjs`,
      "lib/agent/mod.ts",
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    await Deno.remove(dir, { recursive: true });
    throw new Error(`deno bundle failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return dir;
}
