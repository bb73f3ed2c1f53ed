/**
 * Only the agent-cost piece of `deno task bench` (bench/agent_cost.ts): runs it with the
 * same settings (or `--reps N --window SECONDS`) and replaces the "Agent cost" section of
 * docs/benchmarks.md with its report, leaving the other sections as they are.
 *
 *     deno run -A bench/agent_cost_main.ts            # 5 x 60 s, about 8 minutes (seven apps side by side)
 *     deno run -A bench/agent_cost_main.ts --reps 1 --window 10 --dry   # print only
 *     deno run -A bench/agent_cost_main.ts --apps 3 --dry   # 3 apps per role, medians (print only)
 *
 * @module
 */
import { AGENT_COST, AGENT_TARGETS, runAgentCost } from "./agent_cost.ts";
import { type BenchResults, renderAgentCost } from "./report.ts";

const OUT = new URL("../docs/benchmarks.md", import.meta.url);

/** Replace the `## Agent cost` section of a report (up to the next `## `) with `section`. */
export function replaceAgentSection(doc: string, section: string): string {
  const start = doc.indexOf("\n## Agent cost\n");
  if (start < 0) throw new Error("docs/benchmarks.md has no '## Agent cost' section");
  const next = doc.indexOf("\n## ", start + 1);
  return doc.slice(0, start + 1) + section.trimEnd() + "\n" + (next < 0 ? "" : doc.slice(next));
}

/** The line that dates a section re-run alone. */
export function rerunNote(date: string): string {
  return `_Re-run alone (\`deno run -A bench/agent_cost_main.ts\`) at ${date}; the sections ` +
    "around it are from the full run under Machine._";
}

async function main() {
  const arg = (name: string, d: number) => {
    const i = Deno.args.indexOf(`--${name}`);
    return i < 0 ? d : Number(Deno.args[i + 1]);
  };
  const agentCost = await runAgentCost({
    ...AGENT_COST,
    reps: arg("reps", AGENT_COST.reps),
    windowMs: arg("window", AGENT_COST.windowMs / 1000) * 1000,
    appsPerRole: arg("apps", 1),
    log: (l) => console.error(`agent cost: ${l}`),
  });
  const lines: string[] = [];
  // Only the fields renderAgentCost reads.
  renderAgentCost(
    { agentCost, targets: AGENT_TARGETS } as unknown as BenchResults,
    (s = "") => lines.push(s),
  );
  // Said under the heading: this section is newer than the run the rest of the file is from.
  lines.splice(2, 0, rerunNote(new Date().toISOString()), "");
  const section = lines.join("\n") + "\n";
  if (Deno.args.includes("--dry")) {
    console.log(section);
    return;
  }
  await Deno.writeTextFile(OUT, replaceAgentSection(await Deno.readTextFile(OUT), section));
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", OUT.pathname] }).output();
  console.error(`wrote the agent section of ${OUT.pathname}`);
}

if (import.meta.main) await main();
