/**
 * The dashboard's access token. With a token set, every request but `/healthz` needs it,
 * either as `Authorization: Bearer <token>` (scripts, curl) or as the `zeroapm_token` cookie
 * (HttpOnly, SameSite=Strict) that a browser gets by opening `/?token=<token>` once: the answer
 * sets the cookie and redirects to the same page without the token in the URL. Without a token
 * (the loopback default) nothing is checked. See docs/security.md.
 *
 * @module
 */
import { createHash, timingSafeEqual as equalBytes } from "node:crypto";
import {
  generateToken,
  isLoopback,
  MIN_TOKEN_LENGTH,
  resolveToken,
  TokenError,
  validateToken,
} from "../token.ts";

/** Cookie that carries the token for the page, its assets, the API and `/ws`. */
export const TOKEN_COOKIE = "zeroapm_token";
/** Query parameter the page is opened with once. */
export const TOKEN_PARAM = "token";
/** Paths served without a token: liveness probes (it reveals uptime and instance count only). */
export const OPEN_PATHS: ReadonlySet<string> = new Set(["/healthz"]);

/** Options for {@link createAuth}. */
export interface AuthOptions {
  /** The token; null checks nothing (only for loopback: see {@link resolveToken}). */
  token: string | null;
  /**
   * Mark the cookie `Secure`. Default: when the request URL is https. Behind a TLS reverse
   * proxy the collector sees http, so set this to true there.
   */
  secureCookie?: boolean;
}

/** A request checker. */
export interface Auth {
  /** True when a token is required. */
  readonly enabled: boolean;
  /** null when the request may go on; otherwise the response to send instead (401, or 303). */
  check(req: Request): Response | null;
  /** `handler` behind {@link Auth.check}. */
  wrap(
    handler: (req: Request) => Response | Promise<Response>,
  ): (req: Request) => Promise<Response>;
}

export { generateToken, isLoopback, MIN_TOKEN_LENGTH, resolveToken, TokenError, validateToken };

/** The URL to open once in a browser: `BASE/?token=...`. */
export function loginUrl(httpUrl: string, token: string): string {
  return `${httpUrl.replace(/\/+$/, "")}/?${TOKEN_PARAM}=${encodeURIComponent(token)}`;
}

/**
 * Compare two secrets in time that depends on neither where they differ nor their lengths:
 * node:crypto's timingSafeEqual over their SHA-256 digests (it needs equal lengths).
 */
export function timingSafeEqual(a: string, b: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return equalBytes(digest(a), digest(b));
}

/** Every value of cookie `name` in a Cookie header (a browser may send duplicates). */
function cookieValues(header: string | null, name: string): string[] {
  if (!header) return [];
  const out: string[] = [];
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) out.push(part.slice(eq + 1).trim());
  }
  return out;
}

function unauthorized(message: string): Response {
  return new Response(JSON.stringify({ error: message }) + "\n", {
    status: 401,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      "www-authenticate": 'Bearer realm="zeroapm"',
    },
  });
}

/** Build the checker. Throws a {@link TokenError} for an unusable token. */
export function createAuth(opts: AuthOptions): Auth {
  const token = opts.token === null ? null : validateToken(opts.token);
  const matches = (candidate: string | undefined) =>
    candidate !== undefined && token !== null && timingSafeEqual(candidate, token);

  const check = (req: Request): Response | null => {
    if (token === null) return null;
    const url = new URL(req.url);
    if (OPEN_PATHS.has(url.pathname)) return null;

    // The page opened with ?token=: set the cookie, send the browser to the URL without it.
    const fromQuery = url.searchParams.get(TOKEN_PARAM);
    if (fromQuery !== null && (url.pathname === "/" || url.pathname === "/index.html")) {
      if (!matches(fromQuery)) return unauthorized("wrong token");
      url.searchParams.delete(TOKEN_PARAM);
      const secure = opts.secureCookie ?? url.protocol === "https:";
      return new Response(null, {
        status: 303,
        headers: {
          location: url.pathname + url.search,
          "set-cookie": `${TOKEN_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict` +
            (secure ? "; Secure" : ""),
          "cache-control": "no-store",
          "referrer-policy": "no-referrer",
        },
      });
    }

    const authz = req.headers.get("authorization");
    if (authz !== null) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(authz);
      return m && matches(m[1]) ? null : unauthorized("wrong token");
    }
    const cookies = cookieValues(req.headers.get("cookie"), TOKEN_COOKIE);
    if (cookies.some((c) => matches(c))) return null;
    return unauthorized(
      cookies.length > 0
        ? "wrong token: open the dashboard URL the collector printed at start again"
        : "a token is required: open the dashboard URL the collector printed at start " +
          "(/?token=...), or send Authorization: Bearer <token>",
    );
  };

  return {
    enabled: token !== null,
    check,
    wrap: (handler) => async (req) => check(req) ?? await handler(req),
  };
}
