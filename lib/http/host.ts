/**
 * The `Host` check against DNS rebinding. A page on `rebind.evil.example` whose name is made to
 * resolve to 127.0.0.1 is same-origin with itself, so the browser lets it read the collector's
 * answers: on loopback without a token that is every metric. Such a request still names the
 * attacker's domain in `Host`, so the collector answers only requests whose `Host` is the
 * address it is bound to, `localhost` (or another loopback address when bound to loopback), an IP
 * address when it is bound to every interface, or a name given with `--allowed-host`. Others get
 * 421 Misdirected Request. See docs/security.md.
 *
 * @module
 */
import { isLoopback } from "../token.ts";

/** Paths served whatever the `Host` (liveness probes; it reveals uptime and instance count). */
export const HOST_OPEN_PATHS: ReadonlySet<string> = new Set(["/healthz"]);

/** Options for {@link createHostCheck}. */
export interface HostCheckOptions {
  /** The address the HTTP server is bound to (`127.0.0.1`, `0.0.0.0`, `::`, a name...). */
  bound: string;
  /** Host names also accepted (`--allowed-host`); `*` accepts any (turns the check off). */
  allowed?: readonly string[];
}

/** A request checker: null when the request may go on, else the 421 to send instead. */
export type HostCheck = (req: Request) => Response | null;

/** The name part of a `Host` header: lower case, without the port and IPv6 brackets. */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    return end < 0 ? h : h.slice(1, end);
  }
  const colon = h.indexOf(":");
  return (colon < 0 ? h : h.slice(0, colon)).replace(/\.$/, "");
}

/** True for an IPv4 or IPv6 literal (no DNS name: a rebinding attack needs a name). */
export function isIpLiteral(name: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || (name.includes(":") && /^[0-9a-f:.]+$/.test(name));
}

function isWildcard(bound: string): boolean {
  return bound === "0.0.0.0" || bound === "::" || bound === "[::]" || bound === "";
}

/** Build the check. A name in `allowed` may carry a port, which is ignored. */
export function createHostCheck(opts: HostCheckOptions): HostCheck {
  const bound = hostName(opts.bound);
  const allowed = new Set((opts.allowed ?? []).map(hostName));
  const any = allowed.has("*");
  const ok = (name: string): boolean => {
    if (any || name === bound || name === "localhost" || allowed.has(name)) return true;
    if (isIpLiteral(name)) return isWildcard(bound) || (isLoopback(bound) && isLoopback(name));
    return false;
  };
  return (req) => {
    const header = req.headers.get("host");
    if (header !== null && ok(hostName(header))) return null;
    if (HOST_OPEN_PATHS.has(new URL(req.url).pathname)) return null;
    return new Response(
      `421 Misdirected Request: this collector does not answer for Host ${
        JSON.stringify(header ?? "")
      }; start it with --allowed-host NAME to allow that name (docs/security.md)\n`,
      {
        status: 421,
        headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
      },
    );
  };
}
