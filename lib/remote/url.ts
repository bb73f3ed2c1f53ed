/**
 * Remote URLs and their credentials: `fetch` refuses a URL with `user:password@`, and logs
 * must never show one. So credentials in a URL become a Basic `Authorization` header (unless
 * one is given) and the URL is used, shown and logged without them.
 *
 * @module
 */

/** A URL without user:password, for logs and stats. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.href;
  } catch {
    return "(invalid URL)";
  }
}

/** The URL without credentials, and the headers with them as Basic auth when it had some. */
export function splitCredentials(
  url: string,
  headers: Record<string, string> = {},
): { url: string; headers: Record<string, string> } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { url, headers };
  }
  if (u.username === "" && u.password === "") return { url, headers };
  const user = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  const basic = `Basic ${btoa(String.fromCharCode(...bytes))}`;
  const has = Object.keys(headers).some((k) => k.toLowerCase() === "authorization");
  return { url: redact(url), headers: has ? headers : { ...headers, authorization: basic } };
}
