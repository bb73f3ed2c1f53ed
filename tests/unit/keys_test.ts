/** CURVE key files, the allowlist, Z85, and the ZAP handler's answers (no sockets). */
import assert from "node:assert/strict";
import {
  generateKeyPair,
  isKey,
  KeyError,
  keyFiles,
  loadClientKeys,
  loadServerKeys,
  parseAllowlist,
  publicKeyOf,
  readAllowlist,
  readKeyPair,
  readPublicKey,
  readSecretKey,
  writeKeyPair,
  z85Decode,
  z85Encode,
} from "../../lib/transport/keys.ts";
import { answer, serveZap, type ZapDecision, type ZapSocket } from "../../lib/transport/zap.ts";
import { keygen } from "../../lib/cmd/keygen.ts";

const enc = new TextEncoder();

async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "zeroapm_keys_test_" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

Deno.test("z85 encodes the ZMQ RFC 32 test vector and round-trips keys", async () => {
  const bytes = new Uint8Array([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);
  assert.equal(z85Encode(bytes), "HelloWorld");
  assert.deepEqual(z85Decode("HelloWorld"), bytes);
  const { publicKey } = await generateKeyPair();
  assert.equal(z85Encode(z85Decode(publicKey)!), publicKey);
  assert.equal(z85Decode("Hello Worl"), null);
  assert.equal(z85Decode("#0000"), null, "over 2^32");
});

Deno.test("isKey accepts generated keys and refuses others", async () => {
  const k = await generateKeyPair();
  assert.ok(isKey(k.publicKey) && isKey(k.secretKey));
  assert.ok(!isKey(k.publicKey.slice(1)));
  assert.ok(!isKey(k.publicKey + "0"));
  assert.ok(!isKey("#" + k.publicKey.slice(1)), "a key never starts with #");
  assert.ok(!isKey(" ".repeat(40)));
});

Deno.test("publicKeyOf derives the public key CURVE pairs with a secret key", async () => {
  for (let i = 0; i < 5; i++) {
    const k = await generateKeyPair();
    assert.equal(await publicKeyOf(k.secretKey), k.publicKey);
  }
  await assert.rejects(publicKeyOf("nope"), KeyError);
});

Deno.test("writeKeyPair writes NAME.key 0600 and NAME.pub, and never replaces them", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const pair = await generateKeyPair();
  const files = await writeKeyPair(`${dir}/sub`, "agent-1", pair);
  assert.deepEqual(files, keyFiles(`${dir}/sub`, "agent-1"));
  assert.equal((await Deno.stat(files.secretPath)).mode! & 0o777, 0o600);
  assert.equal((await Deno.stat(`${dir}/sub`)).mode! & 0o777, 0o700);
  assert.equal(await readSecretKey(files.secretPath), pair.secretKey);
  assert.equal(await readPublicKey(files.publicPath), pair.publicKey);
  assert.deepEqual(await readKeyPair(files.secretPath), pair);
  await assert.rejects(
    writeKeyPair(`${dir}/sub`, "agent-1", await generateKeyPair()),
    /already exists/,
  );
  assert.equal(await readSecretKey(files.secretPath), pair.secretKey, "unchanged");
  assert.throws(() => keyFiles(dir, "../etc/x"), KeyError);
});

Deno.test("readSecretKey refuses a key file others can read", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const { secretPath } = await writeKeyPair(dir, "c", await generateKeyPair());
  await Deno.chmod(secretPath, 0o644);
  await assert.rejects(readSecretKey(secretPath), /readable by others.*chmod 600/);
});

Deno.test("readKeyPair refuses a .pub that belongs to another key, and works without one", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const a = await writeKeyPair(dir, "a", await generateKeyPair());
  const b = await writeKeyPair(dir, "b", await generateKeyPair());
  await Deno.copyFile(b.publicPath, a.publicPath);
  await assert.rejects(readKeyPair(a.secretPath), /does not belong/);
  await Deno.remove(a.publicPath);
  const pair = await readKeyPair(a.secretPath);
  assert.equal(pair.publicKey, await publicKeyOf(pair.secretKey));
});

Deno.test("readKeyPair refuses a public key file given as the secret key, naming the .key", async () => {
  await using tmp = await tempDir();
  const files = await writeKeyPair(tmp.path, "collector", await generateKeyPair());
  await Deno.chmod(files.publicPath, 0o600); // even as private as a secret key
  await assert.rejects(
    readKeyPair(files.publicPath),
    new RegExp(`collector\\.pub is a public key file; give the secret key, .*collector\\.key$`),
  );
});

Deno.test("key files allow comments and blank lines but exactly one key", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const k = await generateKeyPair();
  await Deno.writeTextFile(`${dir}/x.pub`, `# collector\n\n${k.publicKey}  # prod\n`);
  assert.equal(await readPublicKey(`${dir}/x.pub`), k.publicKey);
  await Deno.writeTextFile(`${dir}/y.pub`, `${k.publicKey}\n${k.publicKey}\n`);
  await assert.rejects(readPublicKey(`${dir}/y.pub`), /exactly one/);
  await assert.rejects(readPublicKey(`${dir}/none.pub`), /cannot read/);
});

Deno.test("parseAllowlist reads one key per line with # comments and names a bad line", async () => {
  const a = (await generateKeyPair()).publicKey;
  const b = (await generateKeyPair()).publicKey;
  const text = `# agents\n${a}  # bookings on web-3\n\n   ${b}\r\n# ${a.slice(0, 10)}\n`;
  assert.deepEqual(parseAllowlist(text), new Set([a, b]));
  assert.deepEqual(parseAllowlist(""), new Set());
  assert.throws(() => parseAllowlist(`${a}\nnot-a-key\n`, "agents.txt"), /agents.txt:2:/);
  assert.throws(() => parseAllowlist(`${a} ${b}\n`), /:1:/, "two keys on a line");
  assert.throws(() => parseAllowlist(`${a}# glued comment\n`), /:1:/);
});

Deno.test("a key containing # survives the allowlist (Z85 has # as a digit)", async () => {
  let key = "";
  while (!key.includes("#")) key = (await generateKeyPair()).publicKey;
  assert.deepEqual(parseAllowlist(`${key} # with a hash\n`), new Set([key]));
});

Deno.test("loadServerKeys and loadClientKeys read the files keygen writes", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const lines: string[] = [];
  assert.equal(await keygen(["--out", dir], (s) => lines.push(s), () => {}), 0);
  assert.equal(await keygen(["--out", dir, "--name", "web-1"], (s) => lines.push(s)), 0);
  assert.equal(await keygen(["--out", dir, "--name", "web-1"], () => {}, () => {}), 1);
  assert.equal(await keygen([], () => {}, () => {}), 2);
  const agentPub = await readPublicKey(`${dir}/web-1.pub`);
  assert.ok(lines.some((l) => l.includes(agentPub)), "prints the allowlist line");
  await Deno.writeTextFile(`${dir}/agents.txt`, `${agentPub}  # web-1\n`);
  const server = await loadServerKeys(`${dir}/collector.key`, `${dir}/agents.txt`);
  assert.deepEqual(server.allow, new Set([agentPub]));
  assert.equal((await loadServerKeys(`${dir}/collector.key`, "any")).allow, null);
  const fromText = await loadClientKeys(`${dir}/web-1.key`, server.publicKey);
  const fromFile = await loadClientKeys(`${dir}/web-1.key`, `${dir}/collector.pub`);
  assert.deepEqual(fromText, fromFile);
  assert.equal(fromText.serverKey, server.publicKey);
  assert.equal(fromText.publicKey, agentPub);
  assert.deepEqual(await readAllowlist(`${dir}/agents.txt`), server.allow);
});

// ZAP (RFC 27) answers, as lib/transport/zap.ts builds them from the ROUTER's frames.

function request(key: Uint8Array | null, over: Partial<Record<string, string>> = {}): Uint8Array[] {
  const f = (s: string) => enc.encode(s);
  const frames: Uint8Array[] = [
    f("route"),
    new Uint8Array(0),
    f(over.version ?? "1.0"),
    f("7"),
    f(over.domain ?? "zeroapm"),
    f("10.0.0.9"),
    new Uint8Array(0),
    f(over.mechanism ?? "CURVE"),
  ];
  if (key) frames.push(key);
  return frames;
}

Deno.test("ZAP: 200 for an allowed CURVE key, echoing the request id", async () => {
  const k = (await generateKeyPair()).publicKey;
  const out = answer(request(z85Decode(k)), { allow: new Set([k]), domain: "zeroapm" })!;
  assert.deepEqual(out.reply.slice(1), ["", "1.0", enc.encode("7"), "200", "OK", k, ""]);
  assert.deepEqual(out.reply[0], enc.encode("route"));
  assert.deepEqual(out.decision, {
    allowed: true,
    key: k,
    address: "10.0.0.9",
    mechanism: "CURVE",
    domain: "zeroapm",
  });
});

Deno.test("ZAP: 400 for an unknown key, another domain, another mechanism or version", async () => {
  const k = (await generateKeyPair()).publicKey;
  const raw = z85Decode(k)!;
  const allow = new Set([k]);
  const status = (frames: Uint8Array[]) => answer(frames, { allow, domain: "zeroapm" })!.reply[4];
  assert.equal(status(request(z85Decode((await generateKeyPair()).publicKey))), "400");
  assert.equal(status(request(raw, { domain: "other" })), "400");
  assert.equal(status(request(raw, { version: "2.0" })), "400");
  assert.equal(status(request(null, { mechanism: "NULL" })), "400");
  assert.equal(status(request(raw, { mechanism: "PLAIN" })), "400");
  assert.equal(status(request(raw.slice(0, 31))), "400");
  assert.equal(status([...request(raw), new Uint8Array(1)]), "400");
  assert.equal(answer(request(raw).slice(0, 5), { allow, domain: "zeroapm" }), null);
});

Deno.test("ZAP: serveZap drains a socket, awaits each reply and counts answers", async () => {
  const k = (await generateKeyPair()).publicKey;
  const queue = [request(z85Decode(k)), request(z85Decode((await generateKeyPair()).publicKey))];
  const sent: (Uint8Array | string)[][] = [];
  let closed = false;
  const socket: ZapSocket = {
    get readable() {
      return queue.length > 0;
    },
    get closed() {
      return closed;
    },
    receive: () => Promise.resolve(queue.shift()!),
    send: async (frames) => {
      await new Promise((r) => setTimeout(r, 1));
      sent.push(frames);
    },
    close: () => (closed = true),
  };
  const seen: ZapDecision[] = [];
  const zap = serveZap(socket, {
    allow: new Set([k]),
    domain: "zeroapm",
    onDecision: (d) => seen.push(d),
  });
  while (sent.length < 2) await new Promise((r) => setTimeout(r, 1));
  await zap.close();
  assert.deepEqual(sent.map((f) => f[4]), ["200", "400"]);
  assert.deepEqual([zap.allowed, zap.denied], [1, 1]);
  assert.deepEqual(seen.map((d) => d.allowed), [true, false]);
  assert.ok(closed);
});

Deno.test("loading the key checks makes no TextDecoder (the agent loads them: RSS, issue 14)", async () => {
  const zap = new URL("../../lib/transport/zap.ts", import.meta.url).href;
  const code = `let made = 0;
const Real = globalThis.TextDecoder;
globalThis.TextDecoder = class extends Real { constructor(...a) { made++; super(...a); } };
const { isZ85Key } = await import(${JSON.stringify(zap)});
isZ85Key("x");
console.log(made);`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", code],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.ok(out.success);
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "0");
});
