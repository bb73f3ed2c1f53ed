/**
 * The page's handling of `samples` frames (static/frames.ts): the column form read into the
 * store, whatever the wire holds.
 */
import assert from "node:assert/strict";
import { frameHandler } from "../../static/frames.ts";
import { Store } from "../../static/store.ts";
import { PageState } from "../../static/page_state.ts";
import { ClockSync } from "../../static/clock.ts";
import type { LiveView } from "../../static/live_view.ts";
import type { Entry, Point } from "../../static/store.ts";
import type { LiveFrame } from "../../lib/live/messages.ts";
import { SamplesColumns } from "../../lib/live/samples.ts";

function page() {
  const store = new Store();
  const appended: Array<{ id: string; added: Map<string, Point[]> }> = [];
  const shown: string[] = [];
  const live = {
    show: (id: string) => shown.push(id),
    append: (id: string, _e: Entry, added: Map<string, Point[]>) => appended.push({ id, added }),
  } as unknown as LiveView;
  const onFrame = frameHandler({
    store,
    state: new PageState({ view: "live", range: "1h", abs: null, hidden: [] }, 60_000),
    clock: new ClockSync(),
    live,
    onHello() {},
    onInstancesChanged() {},
    onServices() {},
    onAlerts() {},
    onCounters() {},
    onIngest() {},
  });
  return { store, onFrame, appended, shown };
}

Deno.test("the page appends a samples frame's columns as points per metric, nulls skipped", () => {
  const { store, onFrame, appended, shown } = page();
  const built = new SamplesColumns("svc/a", 3000);
  built.add(1000);
  built.set("cpu.percent", 10);
  built.set("mem.rss_bytes", 100);
  built.add(2000);
  built.set("cpu.percent", 20);
  built.add(3000);
  built.set("mem.rss_bytes", 300);
  onFrame(JSON.parse(JSON.stringify(built)));
  const e = store.entries.get("svc/a")!;
  assert.deepEqual(shown, ["svc/a"], "a placeholder until its instance frame");
  assert.deepEqual(e.points.get("cpu.percent"), [[1000, 10], [2000, 20]]);
  assert.deepEqual(e.points.get("mem.rss_bytes"), [[1000, 100], [3000, 300]]);
  assert.deepEqual({ ...e.view.latest }, { "cpu.percent": 20, "mem.rss_bytes": 300 });
  assert.equal(e.view.lastSeen, 3000);
  assert.deepEqual([...appended[0].added.keys()], ["cpu.percent", "mem.rss_bytes"]);
});

Deno.test("the page takes only numbers from a samples frame: other entries and shapes are skipped", () => {
  const { store, onFrame } = page();
  const frames = [
    // Times or values that are not numbers, a short column, a column that is not an array.
    {
      type: "samples",
      now: 5,
      id: "svc/a",
      t: [1, "2", 3, 4],
      v: { "cpu.percent": [1, 2, "3", null, 9], "mem.rss_bytes": "x", "q.x": [7] },
    },
    // `__proto__` from JSON is an own key: just a metric name.
    JSON.parse('{"type":"samples","now":6,"id":"svc/a","t":[5],"v":{"__proto__":[1]}}'),
    { type: "samples", now: 7, id: "svc/a", t: null, v: { "cpu.percent": [8] } },
    { type: "samples", now: 8, id: "svc/a", t: [6], v: null },
    { type: "samples", now: 9, id: "svc/a" },
    { type: "samples", now: 9, id: 5, t: [7], v: { "cpu.percent": [1] } },
  ] as unknown as LiveFrame[];
  for (const f of frames) onFrame(f);
  const e = store.entries.get("svc/a")!;
  assert.deepEqual(e.points.get("cpu.percent"), [[1, 1]]);
  assert.deepEqual(e.points.get("mem.rss_bytes"), []);
  assert.deepEqual({ ...e.view.latest }, { "cpu.percent": 1, "q.x": 7, ["__proto__"]: 1 });
  assert.equal(Object.getPrototypeOf(e.view.latest), null);
  assert.equal(store.entries.size, 1, "a frame without a string id is ignored");
});
