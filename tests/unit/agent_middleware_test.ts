import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import {
  instrument,
  instrumentNode,
  methodLabel,
  statusClass,
} from "../../lib/agent/middleware.ts";
import { createRegistry } from "../../lib/agent/registry.ts";
import { BUCKETS } from "../../lib/histogram.ts";

const count = (
  m: ReturnType<typeof createRegistry>,
  method: string,
  route: string,
  status: string,
) =>
  m.snapshot()
    .metrics[`http.requests_total{method="${method}",route="${route}",status="${status}"}`];
const hist = (m: ReturnType<typeof createRegistry>, method: string, route: string) =>
  m.snapshot().hist[`http.request_duration_ms{method="${method}",route="${route}"}`];

Deno.test("middleware labels status by class and unknown methods as OTHER", () => {
  assert.deepEqual([101, 200, 204, 301, 404, 499, 500, 503].map(statusClass), [
    "1xx",
    "2xx",
    "2xx",
    "3xx",
    "4xx",
    "4xx",
    "5xx",
    "5xx",
  ]);
  assert.equal(statusClass(0), "5xx");
  assert.equal(statusClass(600), "5xx");
  assert.equal(methodLabel("GET"), "GET");
  assert.equal(methodLabel("PATCH"), "PATCH");
  assert.equal(methodLabel("PROPFIND"), "OTHER");
  assert.equal(methodLabel("get"), "OTHER");
  assert.equal(methodLabel(undefined), "OTHER");
});

Deno.test("instrument counts by method, route template and status class, and times with the clock", async () => {
  const m = createRegistry();
  let clock = 0;
  const handler = instrument(
    (req: Request) => {
      clock += 7;
      const path = new URL(req.url).pathname;
      return new Response(null, { status: path === "/missing" ? 404 : 200 });
    },
    {
      metrics: m,
      clock: () => clock,
      route: (req) => new URL(req.url).pathname.startsWith("/users/") ? "/users/:id" : undefined,
    },
  );
  await handler(new Request("http://x/users/1"));
  await handler(new Request("http://x/users/2", { method: "DELETE" }));
  await handler(new Request("http://x/users/3"));
  await handler(new Request("http://x/missing"));
  await handler(new Request("http://x/raw/path/123", { method: "PROPFIND" }));
  assert.equal(count(m, "GET", "/users/:id", "2xx"), 2);
  assert.equal(count(m, "DELETE", "/users/:id", "2xx"), 1);
  assert.equal(count(m, "GET", "other", "4xx"), 1, "no template: other, never the raw path");
  assert.equal(count(m, "OTHER", "other", "2xx"), 1);
  assert.ok(!JSON.stringify(m.snapshot()).includes("/raw/path"));
  const h = hist(m, "GET", "/users/:id");
  assert.equal(h.sum, 14);
  assert.equal(h.counts[BUCKETS.indexOf(10)], 2);
});

Deno.test("instrument counts a throwing handler as 5xx and rethrows the same error", async () => {
  const m = createRegistry();
  const boom = new TypeError("boom");
  const sync = instrument((): Response => {
    throw boom;
  }, { metrics: m, route: () => "/a" });
  const rejecting = instrument(() => Promise.reject(boom), { metrics: m, route: () => "/a" });
  await assert.rejects(sync(new Request("http://x/a")), (e) => e === boom);
  await assert.rejects(rejecting(new Request("http://x/a")), (e) => e === boom);
  assert.equal(count(m, "GET", "/a", "5xx"), 2);
  assert.equal(hist(m, "GET", "/a").counts.reduce((a, b) => a + b), 2);
});

Deno.test("instrument survives a route function that throws or returns junk", async () => {
  const m = createRegistry({ onError: () => {} });
  const ok = () => new Response("ok");
  const throwing = instrument(ok, {
    metrics: m,
    route: () => {
      throw new Error("router bug");
    },
  });
  const junk = instrument(ok, { metrics: m, route: () => "bad\nvalue" });
  assert.equal((await throwing(new Request("http://x/"))).status, 200);
  assert.equal((await junk(new Request("http://x/"))).status, 200);
  assert.equal(count(m, "GET", "other", "2xx"), 1);
  assert.equal(m.stats().invalidLabels, 2, "a bad template is counted, not thrown");
});

Deno.test("instrument passes extra handler arguments through", async () => {
  const m = createRegistry();
  const handler = instrument(
    (_req: Request, info: { remote: string }) => new Response(info.remote),
    { metrics: m },
  );
  assert.equal(
    await (await handler(new Request("http://x/"), { remote: "1.2.3.4" })).text(),
    "1.2.3.4",
  );
});

/** A fake node:http response: an EventEmitter with a status code. */
function fakeResponse() {
  const res = Object.assign(new EventEmitter(), { statusCode: 200 });
  return res;
}

Deno.test("instrumentNode records once when the response finishes or closes", () => {
  const m = createRegistry();
  let clock = 0;
  const listener = instrumentNode(
    (_req: { method?: string; url?: string }, res: ReturnType<typeof fakeResponse>) => {
      res.statusCode = 302;
    },
    { metrics: m, clock: () => clock, route: (req) => req.url === "/r" ? "/r" : undefined },
  );
  const res = fakeResponse();
  listener({ method: "GET", url: "/r" }, res);
  assert.equal(count(m, "GET", "/r", "3xx"), undefined, "not before the response finishes");
  clock = 30;
  res.emit("finish");
  res.emit("close");
  assert.equal(count(m, "GET", "/r", "3xx"), 1);
  assert.equal(hist(m, "GET", "/r").sum, 30);
  // The client goes away before the response ends: recorded on close, once.
  const gone = fakeResponse();
  listener({ method: "MKCOL", url: "/x" }, gone);
  gone.emit("close");
  assert.equal(count(m, "OTHER", "other", "3xx"), 1);
});

Deno.test("instrumentNode counts a throwing or rejecting listener as 5xx and rethrows", async () => {
  const m = createRegistry();
  const boom = new Error("boom");
  const sync = instrumentNode((): void => {
    throw boom;
  }, { metrics: m, route: () => "/s" });
  const res = fakeResponse();
  assert.throws(() => sync({ method: "POST" }, res), (e) => e === boom);
  res.emit("finish"); // a framework answered 200 afterwards: still one request, a 5xx
  assert.equal(count(m, "POST", "/s", "5xx"), 1);
  assert.equal(count(m, "POST", "/s", "2xx"), undefined);

  const async = instrumentNode(() => Promise.reject(boom), { metrics: m, route: () => "/a" });
  await assert.rejects(async({ method: "GET" }, fakeResponse()), (e) => e === boom);
  assert.equal(count(m, "GET", "/a", "5xx"), 1);
});
