/**
 * The dashboard's files. Only a fixed set of paths is served, from `static/`, with a
 * Content-Security-Policy that forbids inline script and foreign origins: whatever a
 * hostile sender names itself, the page cannot be made to run it.
 *
 * @module
 */

/** Policy for the page: our own scripts, styles and WebSocket; nothing else. */
export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; " +
  "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; " +
  "frame-ancestors 'none'; form-action 'none'";

const FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/index.html": { file: "index.html", type: "text/html; charset=utf-8" },
  "/style.css": { file: "style.css", type: "text/css; charset=utf-8" },
  "/dist/app.js": { file: "dist/app.js", type: "text/javascript; charset=utf-8" },
  "/dist/app.js.map": { file: "dist/app.js.map", type: "application/json" },
  "/dist/uplot.css": { file: "dist/uplot.css", type: "text/css; charset=utf-8" },
};

/** Serve a dashboard file, or null when the path is not one of them. */
export async function serveStatic(pathname: string, dir: URL): Promise<Response | null> {
  const entry = Object.hasOwn(FILES, pathname) ? FILES[pathname] : undefined;
  if (!entry) return null;
  let body: Uint8Array;
  try {
    body = await Deno.readFile(new URL(entry.file, dir));
  } catch {
    const hint = entry.file.startsWith("dist/") ? " (run `deno task build`)" : "";
    return new Response(`dashboard file missing: ${entry.file}${hint}\n`, {
      status: 503,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
  return new Response(body as Uint8Array<ArrayBuffer>, {
    headers: {
      "content-type": entry.type,
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "content-security-policy": CSP,
    },
  });
}
