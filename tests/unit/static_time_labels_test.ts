import assert from "node:assert/strict";
import { timeLabelText } from "../../static/charts.ts";

Deno.test("live chart time labels leave out the seconds when the grid lines fall on whole minutes", () => {
  const d = new Date(2026, 0, 5, 9, 48, 0);
  assert.equal(timeLabelText(d, 60_000), "09:48");
  assert.equal(timeLabelText(d, 3 * 60_000), "09:48");
  assert.equal(timeLabelText(new Date(2026, 0, 5, 9, 48, 20), 10_000), "09:48:20");
  assert.equal(timeLabelText(d, 10_000), "09:48:00", "a 10 s grid keeps them, even on :00");
  assert.equal(timeLabelText(d, 0), "09:48:00");
});
