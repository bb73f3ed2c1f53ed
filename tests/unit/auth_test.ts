/** The HTTP token (lib/http/auth.ts), and the page's CSP and the `/ws` Origin check. */
import assert from "node:assert/strict";
import {
  createAuth,
  generateToken,
  isLoopback,
  loginUrl,
  resolveToken,
  timingSafeEqual,
  TOKEN_COOKIE,
  TokenError,
  validateToken,
} from "../../lib/http/auth.ts";
import { createHandler } from "../../lib/http/handler.ts";
import { CSP } from "../../lib/http/static.ts";
import { Instances } from "../../lib/collector/instances.ts";
import { CollectorStats } from "../../lib/collector/stats.ts";
import { Hub } from "../../lib/live/hub.ts";
import { RecentStore } from "../../lib/store/recent.ts";
import { Services } from "../../lib/collector/services.ts";
import { recentReader } from "../../lib/http/series.ts";

const BASE = "http://10.0.0.5:8000";
const TOKEN = "s3cret-token_0123456789abcdef";

/** A tiny app behind auth: answers 200 "reached" for every path. */
function app(opts: { token: string | null; secureCookie?: boolean }) {
  const handle = createAuth(opts).wrap(() => new Response("reached"));
  return (path: string, headers: Record<string, string> = {}, base = BASE) =>
    handle(new Request(base + path, { headers }));
}

Deno.test("auth: without a token every request goes through", async () => {
  const get = app({ token: null });
  for (const p of ["/", "/api/instances", "/ws", "/healthz", "/?token=x"]) {
    assert.equal((await get(p)).status, 200, p);
  }
  assert.equal(createAuth({ token: null }).enabled, false);
});

Deno.test("auth: with a token, the API, /ws, the page and unknown paths answer 401 JSON", async () => {
  const get = app({ token: TOKEN });
  for (const p of ["/api/instances", "/api/series?x=1", "/ws", "/", "/dist/app.js", "/nope"]) {
    const res = await get(p);
    assert.equal(res.status, 401, p);
    assert.match(res.headers.get("content-type")!, /application\/json/);
    assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="zeroapm"');
    assert.equal(res.headers.get("cache-control"), "no-store");
    assert.match((await res.json()).error, /token is required/);
  }
});

Deno.test("auth: /healthz stays open for probes", async () => {
  assert.equal((await app({ token: TOKEN })("/healthz")).status, 200);
});

Deno.test("auth: Authorization: Bearer with the token passes, a wrong one does not", async () => {
  const get = app({ token: TOKEN });
  assert.equal((await get("/api/instances", { authorization: `Bearer ${TOKEN}` })).status, 200);
  assert.equal((await get("/ws", { authorization: `bearer  ${TOKEN}` })).status, 200);
  for (const bad of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, `Basic ${TOKEN}`, "Bearer"]) {
    const res = await get("/api/instances", { authorization: bad });
    assert.equal(res.status, 401, bad);
    assert.match((await res.json()).error, /wrong token/);
  }
  // A wrong header is not rescued by a right cookie: the header is what the client meant.
  const both = await get("/api/stats", {
    authorization: "Bearer wrong-wrong-wrong-wrong",
    cookie: `${TOKEN_COOKIE}=${TOKEN}`,
  });
  assert.equal(both.status, 401);
});

Deno.test("auth: the cookie passes, among others and duplicates; a wrong one does not", async () => {
  const get = app({ token: TOKEN });
  assert.equal((await get("/api/instances", { cookie: `${TOKEN_COOKIE}=${TOKEN}` })).status, 200);
  const mixed = `a=1; ${TOKEN_COOKIE}=old-token-from-another-port; ${TOKEN_COOKIE}=${TOKEN}; b=2`;
  assert.equal((await get("/ws", { cookie: mixed })).status, 200);
  const res = await get("/", { cookie: `${TOKEN_COOKIE}=nope; x_${TOKEN_COOKIE}=${TOKEN}` });
  assert.equal(res.status, 401);
  assert.match((await res.json()).error, /wrong token/);
});

Deno.test("auth: /?token= sets an HttpOnly SameSite=Strict cookie and redirects without it", async () => {
  const get = app({ token: TOKEN });
  const res = await get(`/?range=1h&token=${TOKEN}&metric=cpu`);
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), "/?range=1h&metric=cpu");
  assert.equal(
    res.headers.get("set-cookie"),
    `${TOKEN_COOKIE}=${TOKEN}; Path=/; HttpOnly; SameSite=Strict`,
  );
  assert.equal(res.headers.get("referrer-policy"), "no-referrer");
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.equal((await get(`/index.html?token=${TOKEN}`)).headers.get("location"), "/index.html");
  // https, or a TLS proxy in front (secureCookie), adds Secure.
  const viaTls = await app({ token: TOKEN })(`/?token=${TOKEN}`, {}, "https://apm.example");
  assert.match(viaTls.headers.get("set-cookie")!, /; Secure$/);
  const proxied = await app({ token: TOKEN, secureCookie: true })(`/?token=${TOKEN}`);
  assert.match(proxied.headers.get("set-cookie")!, /; Secure$/);
});

Deno.test("auth: a wrong ?token= gets 401 and no cookie; ?token= elsewhere is not a login", async () => {
  const get = app({ token: TOKEN });
  const res = await get("/?token=guess-guess-guess-guess");
  assert.equal(res.status, 401);
  assert.equal(res.headers.get("set-cookie"), null);
  assert.equal((await get(`/api/instances?token=${TOKEN}`)).status, 401);
  assert.equal((await get(`/ws?token=${TOKEN}`)).status, 401);
});

Deno.test("auth: tokens: validated, generated 32 bytes base64url, compared in constant time", () => {
  assert.throws(() => createAuth({ token: "short" }), TokenError);
  assert.throws(() => validateToken("has space in it 0123456789"), TokenError);
  assert.throws(() => validateToken("semi;colon;0123456789abc"), TokenError);
  assert.equal(validateToken(TOKEN), TOKEN);
  const t = generateToken();
  assert.match(t, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(generateToken(), t);
  assert.ok(timingSafeEqual(t, t));
  assert.ok(!timingSafeEqual(t, t.slice(0, -1)));
  assert.ok(!timingSafeEqual(t, t + "A"));
  assert.ok(!timingSafeEqual("", t));
  assert.ok(timingSafeEqual("", ""));
});

Deno.test("auth: resolveToken: loopback needs none, any other address gets one", () => {
  assert.deepEqual(resolveToken("127.0.0.1", undefined), { token: null, generated: false });
  assert.deepEqual(resolveToken("::1", ""), { token: null, generated: false });
  assert.deepEqual(resolveToken("localhost", TOKEN), { token: TOKEN, generated: false });
  const wide = resolveToken("0.0.0.0", undefined);
  assert.equal(wide.generated, true);
  assert.match(wide.token!, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(resolveToken("192.168.1.4", TOKEN).token, TOKEN);
  assert.throws(() => resolveToken("0.0.0.0", "short"), TokenError);
  for (const h of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"]) {
    assert.ok(isLoopback(h), h);
  }
  for (const h of ["0.0.0.0", "::", "10.0.0.1", "127.0.0.1.nip.io", "localhost.example"]) {
    assert.ok(!isLoopback(h), h);
  }
  assert.equal(loginUrl("http://[::]:8000/", "a+b/c"), "http://[::]:8000/?token=a%2Bb%2Fc");
});

// The real handler: CSP on the page, Origin check on /ws, and the same handler behind auth.

async function realHandler() {
  const dir = await Deno.makeTempDir({ prefix: "zeroapm_auth_test_" });
  await Deno.writeTextFile(`${dir}/index.html`, "<!doctype html><p>zeroapm");
  const now = () => 1_700_000_000_000;
  const recent = new RecentStore({ windowMs: 60_000 });
  const handle = createHandler({
    instances: new Instances(),
    services: new Services(),
    stats: new CollectorStats({ now, log: () => {} }),
    hub: new Hub({
      now,
      hello: () => ({ type: "hello", now: now(), windowMs: 1, instances: [], series: {} }),
    }),
    now,
    staticDir: new URL(`file://${dir}/`),
    history: recentReader(recent, now),
  });
  return {
    handle,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("page: / is served with the strict CSP, nosniff and no-referrer", async () => {
  await using h = await realHandler();
  const res = await h.handle(new Request(`${BASE}/`));
  assert.equal(res.status, 200);
  await res.body?.cancel();
  const csp = res.headers.get("content-security-policy")!;
  assert.equal(csp, CSP);
  for (
    const d of [
      "default-src 'self'",
      "script-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
      "connect-src 'self'",
    ]
  ) assert.ok(csp.includes(d), d);
  assert.ok(!/unsafe-inline|unsafe-eval|\*/.test(csp), "no unsafe-* and no wildcard");
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  assert.equal(res.headers.get("referrer-policy"), "no-referrer");
});

Deno.test("ws: a cross-origin or opaque-origin upgrade is refused with 403", async () => {
  await using h = await realHandler();
  const ws = (origin: string | null) =>
    h.handle(
      new Request(`${BASE}/ws`, {
        headers: {
          host: "10.0.0.5:8000",
          upgrade: "websocket",
          connection: "Upgrade",
          "sec-websocket-version": "13",
          "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
          ...(origin === null ? {} : { origin }),
        },
      }),
    );
  for (const o of ["http://evil.example", "null", "http://10.0.0.5:8001", "http://10.0.0.5"]) {
    const res = await ws(o);
    assert.equal(res.status, 403, o);
    await res.body?.cancel();
  }
  const plain = await h.handle(new Request(`${BASE}/ws`));
  assert.equal(plain.status, 426);
  await plain.body?.cancel();
});

Deno.test("auth in front of the real handler: 401 without the cookie, the API with it", async () => {
  await using h = await realHandler();
  const handle = createAuth({ token: TOKEN }).wrap(h.handle);
  const no = await handle(new Request(`${BASE}/api/instances`));
  assert.equal(no.status, 401);
  await no.body?.cancel();
  const yes = await handle(
    new Request(`${BASE}/api/instances`, { headers: { cookie: `${TOKEN_COOKIE}=${TOKEN}` } }),
  );
  assert.equal(yes.status, 200);
  assert.ok(Array.isArray(await yes.json()));
  const health = await handle(new Request(`${BASE}/healthz`));
  assert.equal(health.status, 200);
  assert.equal((await health.json()).ok, true);
});
