/**
 * The access token's rules, for config and HTTP alike: what a usable token is, a new random
 * one, whether an address is loopback, and when a token is required (beyond loopback). A
 * leaf module, so lib/config.ts resolves the token without loading the HTTP layer.
 *
 * @module
 */

/** A token given by a person that cannot be used, worded for them. */
export class TokenError extends Error {}

/** Smallest token accepted, characters: a guessable token is no token. */
export const MIN_TOKEN_LENGTH = 16;
const TOKEN_RE = /^[A-Za-z0-9._~+/=-]+$/;

/** Throw a {@link TokenError} unless `token` is long enough and safe in a header and a cookie. */
export function validateToken(token: string): string {
  if (token.length < MIN_TOKEN_LENGTH || token.length > 512 || !TOKEN_RE.test(token)) {
    throw new TokenError(
      `the token must be ${MIN_TOKEN_LENGTH}-512 characters of A-Z a-z 0-9 . _ ~ + / = -`,
    );
  }
  return token;
}

/** A new random token: 32 bytes from crypto.getRandomValues, base64url (43 characters). */
export function generateToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

/** True for a host name or address that only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) ||
    /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * The rule for config: a token given (flag or env) is validated and used; none given on a
 * loopback address means no token; none given on any other address means a new random one,
 * which the caller must print with {@link loginUrl}.
 */
export function resolveToken(
  httpHost: string,
  given: string | undefined | null,
): { token: string | null; generated: boolean } {
  if (given !== undefined && given !== null && given !== "") {
    return { token: validateToken(given), generated: false };
  }
  if (isLoopback(httpHost)) return { token: null, generated: false };
  return { token: generateToken(), generated: true };
}
