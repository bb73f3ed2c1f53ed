import assert from "node:assert/strict";
import type { InstanceView } from "../../lib/live/messages.ts";
import { PALETTE, readableColor } from "../../lib/colors.ts";
import { Store } from "../../static/store.ts";

function view(
  service: string,
  instance: string,
  color: string,
  extra: Partial<InstanceView> = {},
): InstanceView {
  return {
    id: `${encodeURIComponent(service)}/${encodeURIComponent(instance)}`,
    service,
    instance,
    pid: 1,
    host: null,
    color,
    requestedColor: color,
    status: "live",
    firstSeen: 0,
    lastSeen: 1000,
    clockOffsetMs: 0,
    intervalMs: 1000,
    received: 1,
    lost: 0,
    startedAt: null,
    restarts: 0,
    lastRestartAt: null,
    seqResets: 0,
    latest: {},
    ...extra,
  };
}

Deno.test("Store keeps hostile names as plain Map keys and two same-colour apps apart", () => {
  const s = new Store();
  s.upsert(view("__proto__", "constructor", "red"));
  s.upsert(view("constructor", "__proto__", "red"));
  s.upsert(view("a", "b", "red;background:url(x)"));
  assert.equal(s.entries.size, 3);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(s.entries.get("__proto__/constructor")?.color, "red");
  assert.equal(s.entries.get("constructor/__proto__")?.color, "red");
  assert.ok(PALETTE.includes(s.entries.get("a/b")!.color), "unsafe colour replaced");
});

Deno.test("Store.append sorts, updates latest/lastSeen and trims to the retention", () => {
  const s = new Store(10_000);
  s.upsert(view("svc", "i", "blue"));
  const { added } = s.append("svc/i", {
    "cpu.percent": [[3000, 30], [2000, 20]],
    "mem.rss_bytes": [[3000, 300 * 1024 * 1024]],
    "loop.lag_ms": [[3000, 1]],
  });
  assert.deepEqual(added.get("cpu.percent"), [[2000, 20], [3000, 30]]);
  assert.equal(added.size, 2, "only charted metrics are returned");
  const e = s.entries.get("svc/i")!;
  assert.equal(e.view.latest["cpu.percent"], 30);
  assert.equal(e.view.lastSeen, 3000);
  s.append("svc/i", { "cpu.percent": [[2500, 25], [4000, 40]] });
  assert.deepEqual(e.points.get("cpu.percent")!.map((p) => p[0]), [2000, 2500, 3000, 4000]);
  s.trim(12_500);
  assert.deepEqual(e.points.get("cpu.percent")!.map((p) => p[0]), [2500, 3000, 4000]);
});

Deno.test("Store.append creates a placeholder for samples before their instance frame", () => {
  const s = new Store();
  const { created, entry } = s.append("my%20svc/x%2Fy", { "cpu.percent": [[1, 2]] });
  assert.equal(created, true);
  assert.equal(entry.view.service, "my svc");
  assert.equal(entry.view.instance, "x/y");
  assert.ok(PALETTE.includes(entry.color));
  const { created: again } = s.upsert(view("my svc", "x/y", "green"));
  assert.equal(again, false);
  assert.equal(entry.color, readableColor("green"), "its colour, as drawn on the dark page");
});

Deno.test("Store.keys counts the instances reporting each key, within one service if asked", () => {
  const s = new Store();
  s.upsert(view("api", "a", "red", { latest: { "cpu.percent": 1, "queue.depth": 3 } }));
  s.upsert(view("api", "b", "blue", { latest: { "cpu.percent": 2 } }));
  s.upsert(view("worker", "w", "green", { latest: { "cpu.percent": 3, "jobs.per_s": 4 } }));
  assert.deepEqual(
    Object.fromEntries(s.keys()),
    { "cpu.percent": 3, "queue.depth": 1, "jobs.per_s": 1 },
  );
  assert.deepEqual(Object.fromEntries(s.keys("api")), { "cpu.percent": 2, "queue.depth": 1 });
  assert.deepEqual(Object.fromEntries(s.keys("worker")), { "cpu.percent": 1, "jobs.per_s": 1 });
  assert.equal(s.keys("nope").size, 0);
});
