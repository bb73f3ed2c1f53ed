/**
 * `deno task build-agent`: the agent as an npm package in `dist/agent/`, so a Node 20.16+ app
 * does `npm install /path/to/dist/agent` and `import { createAgent } from "zeroapm-agent"`,
 * and a Deno app may import `dist/agent/mod.js`.
 *
 * - `mod.js` and its chunks: lib/agent/mod.ts bundled to ES modules by `deno bundle` with code
 *   splitting, `zeromq` left external. The agent speaks ZMTP itself and loads lib/transport/zmq.ts (and
 *   so npm:zeromq) only for CURVE, by a dynamic import that code splitting keeps dynamic: in
 *   one file it would become a static import, and the package would not load without
 *   zeromq. So zeromq is an optional peer dependency, installed by an app that wants CURVE;
 * - `types/`: declarations emitted by TypeScript's compiler (npm:typescript, pinned in
 *   deno.json) without type checking (`deno check` does that), with `./x.ts` imports turned
 *   into `./x.js`. (Deno 2.9's `deno bundle --declaration` fails on zeromq's reference to
 *   Node's types, and without that it concatenates files whose imports no longer resolve.)
 * - `deno-types/`: the same with `./x.d.ts` imports, which `mod.js` names in a
 *   `@ts-self-types` comment, so a Deno app can import the built agent too, typed. Plain
 *   JavaScript costs a Deno app less memory than the TypeScript source, whose ~40 modules
 *   Deno transpiles and keeps with their source maps (docs/benchmarks.md, agent cost).
 * - `package.json`, `README.md`.
 *
 * @module
 */
import type ts from "typescript";
import { fileURLToPath } from "node:url";
import { helpHint, parseFlags, UsageError } from "../cli.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The declarations a Deno app type-checks the built agent with (`@ts-self-types`). */
const DENO_TYPES = "deno-types";

/** The package's name, as apps import it. */
export const PACKAGE_NAME = "zeroapm-agent";
/** The package's version. */
export const PACKAGE_VERSION = "0.1.0";
/** The zeromq an app installs for CURVE (the collector's own, deno.json). */
const ZEROMQ_VERSION = "6.8.0";

/** The bundle's entry module, in the directory {@link bundleAgent} writes. */
export const AGENT_ENTRY = "mod.js";

/**
 * Bundle lib/agent/mod.ts for Node (and Deno) into `outDir`: {@link AGENT_ENTRY} and chunks,
 * ES modules (`.js`: the directory needs a package.json with `"type": "module"` for Node).
 */
export async function bundleAgent(outDir: string): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "deno",
      "--external",
      "zeromq",
      "--code-splitting",
      "--outdir",
      outDir,
      "lib/agent/mod.ts",
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`deno bundle failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/**
 * Declarations for lib/agent/mod.ts and what it exports from, as `{ path: text }` with paths
 * relative to `lib/` (`agent/mod.d.ts`, `protocol.d.ts`...), importing each other by their
 * `.ts` names ({@link jsSpecifiers} rewrites them).
 */
export async function agentDeclarations(): Promise<Record<string, string>> {
  // Loaded here, not at the top: tests that only bundle need not load the compiler.
  const { default: ts } = await import("typescript");
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    declaration: true,
    emitDeclarationOnly: true,
    allowImportingTsExtensions: true,
    noCheck: true,
    skipLibCheck: true,
    types: [],
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
    rootDir: `${ROOT}lib`,
    outDir: "/out",
  };
  const program = ts.createProgram([`${ROOT}lib/agent/mod.ts`], options);
  const files: Record<string, string> = {};
  const result = program.emit(
    undefined,
    (name, text) => {
      files[name.replace(/^\/out\//, "")] = text;
    },
    undefined,
    true,
  );
  if (result.emitSkipped) throw new Error("TypeScript emitted no declarations");
  return files;
}

/**
 * `from "./x.ts"` and `import("./x.ts")` -> `.js` (or `ext`), outside comments (lines starting
 * `*`).
 */
export function jsSpecifiers(dts: string, ext = ".js"): string {
  return dts.split("\n").map((line) =>
    /^\s*(\/\*|\*)/.test(line)
      ? line
      : line.replace(/((?:from |import\()\s*["'])(\.{1,2}\/[^"']*)\.ts(["'])/g, `$1$2${ext}$3`)
  ).join("\n");
}

/** The package.json of the agent package. */
export function packageJson(): Record<string, unknown> {
  return {
    name: PACKAGE_NAME,
    version: PACKAGE_VERSION,
    description: "zeroapm agent: report a Node app's CPU, memory, event-loop lag and metrics",
    private: true,
    type: "module",
    main: `./${AGENT_ENTRY}`,
    types: "./types/agent/mod.d.ts",
    exports: {
      ".": {
        types: "./types/agent/mod.d.ts",
        import: `./${AGENT_ENTRY}`,
        default: `./${AGENT_ENTRY}`,
      },
    },
    files: ["*.js", "types/", `${DENO_TYPES}/`, "README.md"],
    engines: { node: ">=20.16" },
    peerDependencies: { zeromq: ZEROMQ_VERSION },
    peerDependenciesMeta: { zeromq: { optional: true } },
  };
}

const README = `# zeroapm-agent

Reports this Node process's CPU, memory, event-loop lag and runtime health, and the app's
own counters, gauges and histograms, to a zeroapm collector.

\`\`\`js
import { createAgent } from "zeroapm-agent";
const agent = createAgent({ service: "bookings", collector: "tcp://127.0.0.1:5555" });
agent.metrics.counter("bookings.created_total").inc();
// on shutdown:
await agent.stop();
\`\`\`

Node 20.16 or later; from CommonJS (Node 20.19 or later, which \`require\` an ES module),
\`const { createAgent } = require("zeroapm-agent")\`.
Without \`collector\`, it reports where \`ZEROAPM_COLLECTOR\` says, else to
tcp://127.0.0.1:5555.

Built from the zeroapm repository with \`deno task build-agent\`. CURVE needs
\`npm install zeromq@${ZEROMQ_VERSION}\` beside it.

A Deno app can import \`mod.js\` from this directory as it is, typed through \`${DENO_TYPES}/\`.
`;

/** Write the whole package to `dir` (emptied first). */
export async function buildAgentPackage(dir: string): Promise<void> {
  await Deno.remove(dir, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  await Deno.mkdir(`${dir}/types`, { recursive: true });
  await bundleAgent(dir);
  const declarations = Object.entries(await agentDeclarations());
  // Node's TypeScript finds `./x.js` imports in `types/` through package.json; Deno does not
  // map `.js` to `.d.ts`, so a Deno app gets `.d.ts` imports in `deno-types/`, named by
  // the entry's `@ts-self-types` (TypeScript refuses a value re-exported from `./x.d.ts`).
  for (const [types, ext] of [["types", ".js"], [DENO_TYPES, ".d.ts"]]) {
    for (const [path, text] of declarations) {
      const file = `${dir}/${types}/${path}`;
      await Deno.mkdir(file.slice(0, file.lastIndexOf("/")), { recursive: true });
      await Deno.writeTextFile(file, jsSpecifiers(text, ext));
    }
  }
  const entry = `${dir}/${AGENT_ENTRY}`;
  await Deno.writeTextFile(
    entry,
    `// @ts-self-types="./${DENO_TYPES}/agent/mod.d.ts"\n${await Deno.readTextFile(entry)}`,
  );
  await Deno.writeTextFile(`${dir}/package.json`, JSON.stringify(packageJson(), null, 2) + "\n");
  await Deno.writeTextFile(`${dir}/README.md`, README);
}

/** `--help` text. */
export const BUILD_AGENT_USAGE =
  `zeroapm build-agent: the agent as an npm package (Node) and plain JavaScript (Deno)

Usage: deno task build-agent

  -h, --help    show this help

Writes dist/agent/ (emptied first). A Node 20.16+ app then does \`npm install /path/to/dist/agent\`
and \`import { createAgent } from "zeroapm-agent"\`; a Deno app can
\`import { createAgent } from "/path/to/dist/agent/mod.js"\` (typed, and lighter than the
TypeScript source).`;

/** Run build-agent with its command line; returns the exit code. */
export async function main(
  args: string[],
  log: (s: string) => void = console.log,
  error: (s: string) => void = console.error,
): Promise<number> {
  let help;
  try {
    ({ help } = parseFlags(args, { help: { type: "boolean", short: "h" } }));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    error(`build-agent: ${e.message}\n${helpHint("deno task build-agent")}`);
    return 2;
  }
  if (help) {
    log(BUILD_AGENT_USAGE);
    return 0;
  }
  const dir = `${ROOT}dist/agent`;
  await buildAgentPackage(dir);
  log(
    `wrote ${dir}: from Node, npm install ${dir}, then import { createAgent } from ` +
      `"zeroapm-agent"; from Deno, import { createAgent } from "${dir}/${AGENT_ENTRY}"`,
  );
  return 0;
}

if (import.meta.main) Deno.exitCode = await main(Deno.args);
