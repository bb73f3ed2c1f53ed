/**
 * Every command line answers a mistake with the error and where the options are, exit code 2;
 * not with its whole usage, which pushed the one line that said what was wrong off the screen.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

const CASES: { file: string; args: string[]; command: string; error: RegExp }[] = [
  { file: "server.ts", args: ["--htp", "1"], command: "deno task server", error: /--htp/ },
  {
    file: "backend_app.ts",
    args: ["--leak", "x"],
    command: "deno run -A backend_app.ts",
    error: /--leak must be an integer/,
  },
  { file: "lib/cmd/watch.ts", args: ["--bogus"], command: "deno task watch", error: /--bogus/ },
  { file: "lib/cmd/demo.ts", args: ["--bogus"], command: "deno task demo", error: /--bogus/ },
  { file: "lib/cmd/keygen.ts", args: [], command: "deno task keygen", error: /--out DIR/ },
  {
    file: "lib/cmd/build_agent.ts",
    args: ["--bogus"],
    command: "deno task build-agent",
    error: /--bogus/,
  },
];

for (const c of CASES) {
  Deno.test(`${c.command}: a bad command line prints the error and where the options are`, async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", c.file, ...c.args],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const said = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 2, said);
    const lines = said.trimEnd().split("\n");
    assert.match(lines[0], c.error, said);
    assert.equal(lines.at(-1), `Run "${c.command} --help" for the options.`, said);
    assert.ok(lines.length <= 3, said);
    assert.equal(new TextDecoder().decode(out.stdout), "");
  });
}
