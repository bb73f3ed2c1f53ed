import assert from "node:assert/strict";
import {
  growsText,
  leakBadges,
  listedSites,
  parseSites,
  siteLine,
  siteWhere,
} from "../../static/alerts_model.ts";
import type { Alert } from "../../lib/live/messages.ts";

const SITE = {
  fn: "cacheReadings",
  url: "file:///srv/app/backend_app.ts",
  line: 141,
  col: 17,
  bytes: 18e6,
  bytesPerMin: 54_525_952, // 52 MiB
  share: 0.973,
};

Deno.test("site text: function, file:line from the URL, MiB per minute and share", () => {
  assert.equal(growsText(SITE), "grows in cacheReadings (backend_app.ts:141), +52 MiB/min");
  assert.equal(siteLine(SITE), "cacheReadings (backend_app.ts:141) · 97 % · +52 MiB/min");
  assert.equal(siteWhere({ ...SITE, url: "file:///a/%3Cb%3E.ts" }), "<b>.ts:141");
  assert.equal(siteWhere({ ...SITE, url: "not a url", line: 0 }), "not a url");
  assert.equal(
    growsText({ ...SITE, bytesPerMin: 1.5 * 1024 * 1024 }).endsWith("+1.5 MiB/min"),
    true,
  );
});

Deno.test("parseSites keeps at most three well-formed sites and drops the rest", () => {
  const sites = parseSites([SITE, { ...SITE, fn: 7 }, null, "x", SITE, SITE, SITE]);
  assert.equal(sites.length, 3);
  assert.deepEqual(parseSites({}), []);
});

Deno.test("leak badge carries where the heap grows when the alert has sites", () => {
  const alert: Alert = {
    id: "memory-leak|backend/g|1",
    rule: "memory-leak",
    kind: "leak",
    instance: "backend/g",
    service: "backend",
    state: "firing",
    since: 1,
    firedAt: 2,
    value: 3300,
    message: "leaking 55 MB/min",
    leak: { mbPerHour: 3300, confidence: 1, sites: [SITE] },
  };
  const badge = leakBadges([alert], {}).get("backend/g")!;
  assert.equal(badge.grows, "grows in cacheReadings (backend_app.ts:141), +52 MiB/min");
  const plain = leakBadges([{ ...alert, leak: { mbPerHour: 3300, confidence: 1 } }], {});
  assert.equal(plain.get("backend/g")!.grows, undefined);
});

Deno.test("sites listed under the sentence: none when the one site holds all the growth", () => {
  // One site with 100 %: its line would repeat "grows in cacheReadings (...), +52 MiB/min".
  assert.deepEqual(listedSites([{ ...SITE, share: 1 }]), []);
  assert.deepEqual(listedSites([{ ...SITE, share: 0.996 }]), [], "reads 100 %");
  // One site with less: the share says the rest grows in sites too small to list.
  assert.deepEqual(listedSites([SITE]), [SITE]);
  const two = [SITE, { ...SITE, fn: "b", share: 0.027 }];
  assert.deepEqual(listedSites(two), two);
  assert.deepEqual(listedSites([]), []);
});
