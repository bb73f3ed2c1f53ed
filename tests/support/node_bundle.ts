/**
 * Test support: bundle lib/agent for Node 20 (zeromq left external, as `deno task build-agent`
 * does) into a fresh directory under the repo's git-ignored tmp/, so Node resolves `zeromq`
 * from the repo's node_modules/.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { AGENT_ENTRY, bundleAgent } from "../../lib/cmd/build_agent.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Bundle the agent into DIR, imported as `DIR/agent.mjs`; returns DIR (the caller removes it). */
export async function bundleAgentForNode(prefix: string): Promise<string> {
  await Deno.mkdir(`${ROOT}tmp`, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: `${ROOT}tmp`, prefix });
  try {
    await bundleAgent(dir);
    await Deno.writeTextFile(`${dir}/package.json`, '{ "type": "module" }\n');
    await Deno.writeTextFile(`${dir}/agent.mjs`, `export * from "./${AGENT_ENTRY}";\n`);
  } catch (e) {
    await Deno.remove(dir, { recursive: true });
    throw e;
  }
  return dir;
}
