import assert from "node:assert/strict";
import { allHiddenText, everyInstanceHidden } from "../../static/all_hidden.ts";
import type { Entry } from "../../static/store.ts";
import type { InstanceView } from "../../lib/model/instance.ts";
import { instanceView } from "../support/views.ts";

const NOW = 10_000_000;

function entry(service: string, instance: string, over: Partial<InstanceView> = {}): [
  string,
  Entry,
] {
  const view = instanceView({
    service,
    instance,
    color: "#ffffff",
    firstSeen: NOW - 60_000,
    lastSeen: NOW - 500,
    ...over,
  }, NOW);
  return [view.id, { view, color: view.color, points: new Map() }];
}

const ENTRIES = [
  entry("api", "a"),
  entry("api", "b"),
  entry("worker", "w"),
  // Ended over 15 minutes ago: the live charts leave it out, hidden or not.
  entry("old", "o", { status: "gone", lastSeen: NOW - 20 * 60_000 }),
];

Deno.test("everyInstanceHidden: the ids when every drawn instance is hidden, else null", () => {
  assert.equal(everyInstanceHidden(ENTRIES, new Set(["api/a"]), null, NOW), null);
  assert.deepEqual(
    everyInstanceHidden(ENTRIES, new Set(["api/a", "api/b", "worker/w"]), null, NOW),
    ["api/a", "api/b", "worker/w"],
  );
  assert.equal(everyInstanceHidden([], new Set(), null, NOW), null, "nothing to draw yet");
});

Deno.test("everyInstanceHidden counts only the focused service's instances", () => {
  const hidden = new Set(["api/a", "api/b"]);
  assert.deepEqual(everyInstanceHidden(ENTRIES, hidden, "api", NOW), ["api/a", "api/b"]);
  assert.equal(everyInstanceHidden(ENTRIES, hidden, "worker", NOW), null);
  assert.equal(everyInstanceHidden(ENTRIES, hidden, null, NOW), null);
});

Deno.test("allHiddenText says how many, of which service, and how to show them", () => {
  assert.equal(
    allHiddenText(1, null),
    "The one instance is hidden from the charts: click its row in Instances to show it, or",
  );
  assert.equal(
    allHiddenText(2, "api"),
    "All 2 instances of api are hidden from the charts: click a row in Instances to show one, or",
  );
});
