/**
 * Test support: a loopback TCP port nothing listens on (bound, noted and released: another
 * process could take it in between, a small race that tests accept).
 *
 * @module
 */

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}
