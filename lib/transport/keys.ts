/**
 * CURVE keys for the ZMQ link: generate a pair, read and write key files, read the allowlist
 * of agent public keys. A key is the 40-character Z85 text libzmq uses (32 bytes). Files hold
 * one key each: `NAME.key` (secret, mode 0600) and `NAME.pub` (public). See docs/security.md.
 *
 * @module
 */
import { isZ85Key, z85Decode, z85Encode } from "./zap.ts";
import { errorMessage } from "../errors.ts";

export { z85Decode, z85Encode };

/** A CURVE key pair, Z85 text. */
export interface KeyPair {
  publicKey: string;
  secretKey: string;
}

/** A key file or allowlist that cannot be used, worded for the person who made it. */
export class KeyError extends Error {}

/** True when `s` is a CURVE key: 40 Z85 characters that decode to 32 bytes. */
export function isKey(s: string): boolean {
  return isZ85Key(s);
}

/**
 * A new random X25519 key pair, as libzmq's `zmq_curve_keypair` makes, from WebCrypto: an
 * app that only loads keys never loads the native zeromq binding.
 */
export async function generateKeyPair(): Promise<KeyPair> {
  const pair = await crypto.subtle.generateKey({ name: "X25519" }, true, ["deriveBits"]);
  const { d, x } = await crypto.subtle.exportKey("jwk", (pair as CryptoKeyPair).privateKey);
  return { publicKey: z85Encode(fromBase64Url(x!)), secretKey: z85Encode(fromBase64Url(d!)) };
}

function fromBase64Url(s: string): Uint8Array {
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** PKCS#8 header of a raw X25519 private key (RFC 8410). */
const PKCS8_X25519 = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e];

/**
 * The public key that belongs to a secret key (X25519 of the base point, as CURVE does),
 * computed with WebCrypto: a `.pub` file can be checked against its `.key`.
 */
export async function publicKeyOf(secretKey: string): Promise<string> {
  const raw = isKey(secretKey) ? z85Decode(secretKey) : null;
  if (!raw) throw new KeyError("not a CURVE secret key (40 Z85 characters)");
  const pkcs8 = new Uint8Array([...PKCS8_X25519, 0x04, 0x22, 0x04, 0x20, ...raw]);
  const key = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "X25519" }, true, [
    "deriveBits",
  ]);
  const { x } = await crypto.subtle.exportKey("jwk", key);
  return z85Encode(fromBase64Url(x!));
}

/** Paths of a key pair's two files. */
export interface KeyFiles {
  /** `DIR/NAME.key`: the secret key, mode 0600. */
  secretPath: string;
  /** `DIR/NAME.pub`: the public key, safe to copy anywhere. */
  publicPath: string;
}

/** The two file paths for `name` in `dir`. */
export function keyFiles(dir: string, name: string): KeyFiles {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
    throw new KeyError(`key name must be 1-64 of A-Z a-z 0-9 . _ - (got ${JSON.stringify(name)})`);
  }
  const base = `${dir.replace(/\/+$/, "") || "."}/${name}`;
  return { secretPath: `${base}.key`, publicPath: `${base}.pub` };
}

/**
 * Write a pair as `DIR/NAME.key` (created with mode 0600) and `DIR/NAME.pub` (0644). Refuses
 * to replace existing files: a lost secret key would lock agents out, so removing one is
 * left to a person.
 */
export async function writeKeyPair(dir: string, name: string, pair: KeyPair): Promise<KeyFiles> {
  if (!isKey(pair.publicKey) || !isKey(pair.secretKey)) throw new KeyError("not a CURVE key pair");
  const files = keyFiles(dir, name);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  for (const path of [files.secretPath, files.publicPath]) {
    try {
      await Deno.lstat(path);
      throw new KeyError(`${path} already exists: remove it first to replace the key`);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  await Deno.writeTextFile(files.secretPath, pair.secretKey + "\n", {
    createNew: true,
    mode: 0o600,
  });
  await Deno.chmod(files.secretPath, 0o600); // the umask may have narrowed it; never widened
  await Deno.writeTextFile(files.publicPath, pair.publicKey + "\n", {
    createNew: true,
    mode: 0o644,
  });
  return files;
}

/** The one key in a key file (blank lines and `#` comments allowed around it). */
async function readKeyFile(path: string, what: string): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new KeyError(`cannot read ${what} ${path}: ${errorMessage(e)}`);
  }
  const keys = text.split("\n").map(keyOnLine).filter((k) => k !== null);
  if (keys.length !== 1 || keys[0] === undefined) {
    throw new KeyError(`${path} must hold exactly one CURVE ${what} (40 Z85 characters)`);
  }
  return keys[0];
}

/**
 * Read a secret key file. On Unix it must not be readable by group or others (as ssh
 * insists): `chmod 600 FILE`.
 */
export async function readSecretKey(path: string): Promise<string> {
  const key = await readKeyFile(path, "secret key");
  const mode = (await Deno.stat(path)).mode;
  if (mode !== null && (mode & 0o077) !== 0) {
    throw new KeyError(
      `${path} is readable by others (mode ${(mode & 0o777).toString(8)}): chmod 600 ${path}`,
    );
  }
  return key;
}

/** Read a public key file (`NAME.pub`). */
export function readPublicKey(path: string): Promise<string> {
  return readKeyFile(path, "public key");
}

/**
 * Read a pair from its secret key file. The public key is derived from the secret one; when
 * the `.pub` file beside it exists it must match (a mismatch means mixed-up files).
 */
export async function readKeyPair(secretPath: string): Promise<KeyPair> {
  // A public key read as the secret one starts a peer with another key, or asks for chmod.
  if (secretPath.endsWith(".pub")) {
    throw new KeyError(
      `${secretPath} is a public key file; give the secret key, ${
        secretPath.slice(0, -".pub".length)
      }.key`,
    );
  }
  const secretKey = await readSecretKey(secretPath);
  const publicKey = await publicKeyOf(secretKey);
  const pubPath = secretPath.replace(/\.key$/, "") + ".pub";
  let onDisk: string | null = null;
  try {
    onDisk = await readPublicKey(pubPath);
  } catch (e) {
    if (!(e instanceof KeyError && /cannot read/.test(e.message))) throw e;
  }
  if (onDisk !== null && onDisk !== publicKey) {
    throw new KeyError(`${pubPath} does not belong to ${secretPath}`);
  }
  return { publicKey, secretKey };
}

/**
 * The key on one line of a key or allowlist file: null for a blank or comment line. A comment
 * starts with `#` at the start of the line or after whitespace (`#` is also a Z85 digit, but
 * never the first of a key, and a comment glued to a key is refused). Anything else than one key and an optional comment is an error.
 */
function keyOnLine(line: string): string | null | undefined {
  const m = /^\s*(?:#.*|(\S+)(?:\s+#.*)?)?\s*$/.exec(line.replace(/\r$/, ""));
  if (!m) return undefined;
  if (m[1] === undefined) return null;
  return isKey(m[1]) ? m[1] : undefined;
}

/**
 * Parse an allowlist: one agent public key per line; `#` starts a comment (a name after the
 * key is a good habit: `KEY  # bookings on web-3`); blank lines are ignored. A line that is
 * not a key is an error naming the line, never silently skipped.
 */
export function parseAllowlist(text: string, source = "allowlist"): Set<string> {
  const keys = new Set<string>();
  text.split("\n").forEach((line, i) => {
    const key = keyOnLine(line);
    if (key === undefined) {
      throw new KeyError(`${source}:${i + 1}: not a CURVE public key (40 Z85 characters)`);
    }
    if (key !== null) keys.add(key);
  });
  return keys;
}

/** Read and parse an allowlist file (see {@link parseAllowlist}). */
export async function readAllowlist(path: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new KeyError(`cannot read allowlist ${path}: ${errorMessage(e)}`);
  }
  return parseAllowlist(text, path);
}

/** What {@link loadServerKeys} returns: `bindPull`'s `curve` option without `onAuth`. */
export interface ServerKeys {
  secretKey: string;
  publicKey: string;
  /** null: any CURVE client that knows the collector's public key (`allowPath` "any"). */
  allow: Set<string> | null;
}

/**
 * The collector's CURVE setup from files: its secret key file and the allowlist file, or
 * the word `any` to accept every client that knows the collector's public key (encrypted,
 * but agents not authenticated: say so in the banner).
 */
export async function loadServerKeys(keyPath: string, allowPath: string): Promise<ServerKeys> {
  const pair = await readKeyPair(keyPath);
  const allow = allowPath === "any" ? null : await readAllowlist(allowPath);
  return { ...pair, allow };
}

/** What {@link loadClientKeys} returns: `connectPush`'s `curve` option. */
export interface ClientKeys {
  serverKey: string;
  publicKey: string;
  secretKey: string;
}

/**
 * An agent's CURVE setup: its own secret key file, and the collector's public key given as
 * the key itself or as the path of `collector.pub`.
 */
export async function loadClientKeys(keyPath: string, serverKey: string): Promise<ClientKeys> {
  const pair = await readKeyPair(keyPath);
  const server = isKey(serverKey.trim()) ? serverKey.trim() : await readPublicKey(serverKey);
  return { serverKey: server, ...pair };
}

/**
 * An agent's CURVE keys from the environment: `ZEROAPM_AGENT_KEY` (its secret key file) and
 * `ZEROAPM_SERVER_KEY` (the collector's public key, or the path of `collector.pub`). Neither
 * set: undefined (plain ZMQ). Only one set is a mistake, said as a KeyError.
 */
export async function clientKeysFromEnv(
  env: Record<string, string | undefined>,
): Promise<ClientKeys | undefined> {
  const key = env.ZEROAPM_AGENT_KEY;
  const server = env.ZEROAPM_SERVER_KEY;
  if (!key && !server) return undefined;
  if (!key || !server) {
    throw new KeyError(
      "CURVE needs both ZEROAPM_AGENT_KEY (agent secret key file) and ZEROAPM_SERVER_KEY (collector public key)",
    );
  }
  return await loadClientKeys(key, server);
}
