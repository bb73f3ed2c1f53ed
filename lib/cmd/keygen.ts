/**
 * `deno task keygen --out DIR [--name NAME]`: write a CURVE key pair as `DIR/NAME.key`
 * (secret, mode 0600) and `DIR/NAME.pub`, and say where each goes. Run it once for the
 * collector and once per agent (or per host). See docs/security.md.
 *
 * @module
 */
import { helpHint } from "../cli.ts";
import { parseArgs } from "node:util";
import { generateKeyPair, KeyError, writeKeyPair } from "../transport/keys.ts";
import { errorMessage } from "../errors.ts";

/** `--help` text. */
export const KEYGEN_USAGE = `zeroapm keygen: write a CURVE key pair for the ZMQ link

Usage: deno task keygen --out DIR [--name NAME]

  --out DIR     directory for the two files (created, mode 0700, if missing)
  --name NAME   file name without extension (default: collector)
  -h, --help    show this help

Writes DIR/NAME.key (secret, mode 0600) and DIR/NAME.pub (public). Existing files are
never replaced.`;

/** Run keygen; returns the exit code. Output goes to `log`, errors to `error`. */
export async function keygen(
  args: string[],
  log: (s: string) => void = console.log,
  error: (s: string) => void = console.error,
): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        out: { type: "string" },
        name: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    error(`error: ${errorMessage(e)}\n${helpHint("deno task keygen")}`);
    return 2;
  }
  if (values.help) {
    log(KEYGEN_USAGE);
    return 0;
  }
  if (!values.out) {
    error(`error: --out DIR is required\n${helpHint("deno task keygen")}`);
    return 2;
  }
  const name = values.name ?? "collector";
  // `deno task` runs in the project folder; a relative --out means where the user typed it.
  const cwd = Deno.env.get("INIT_CWD");
  const out = cwd && !values.out.startsWith("/") ? `${cwd}/${values.out}` : values.out;
  let files;
  const pair = await generateKeyPair();
  try {
    files = await writeKeyPair(out, name, pair);
  } catch (e) {
    if (!(e instanceof KeyError || e instanceof Deno.errors.PermissionDenied)) throw e;
    error(`error: ${errorMessage(e)}`);
    return 1;
  }
  log(`wrote ${files.secretPath}  (secret: keep it on this machine, mode 0600)`);
  log(`wrote ${files.publicPath}  (public: ${pair.publicKey})`);
  log("");
  if (name === "collector") {
    log("This is a collector key. On the collector:");
    log(`  deno task server --curve-key ${files.secretPath} --curve-allow ALLOWLIST_FILE`);
    log("Give every agent the public key (quoted: Z85 keys contain shell characters):");
    log(`  ZEROAPM_SERVER_KEY='${pair.publicKey}'`);
  } else {
    log("This is an agent key. On the collector, add this line to the allowlist file:");
    log(`  ${pair.publicKey}  # ${name}`);
    log("On the agent's machine (copy the .key there; it never needs to leave it again):");
    log(`  ZEROAPM_AGENT_KEY=${name}.key ZEROAPM_SERVER_KEY='<the text of collector.pub>'`);
  }
  log("See docs/security.md for the whole setup.");
  return 0;
}

if (import.meta.main) Deno.exit(await keygen(Deno.args));
