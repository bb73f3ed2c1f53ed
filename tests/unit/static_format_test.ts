import assert from "node:assert/strict";
import {
  formatAge,
  formatAxis,
  formatBand,
  formatCpu,
  formatMiB,
  formatSkew,
  formatWindow,
  MIB,
  niceCeil,
} from "../../static/format.ts";

Deno.test("formatCpu and formatMiB show one decimal and a dash for no value", () => {
  assert.equal(formatCpu(12.345), "12.3 %");
  assert.equal(formatCpu(250), "250.0 %");
  assert.equal(formatCpu(undefined), "–");
  assert.equal(formatCpu(Number.NaN), "–");
  assert.equal(formatMiB(300 * MIB), "300.0 MiB");
  assert.equal(formatMiB(1.25 * MIB), "1.3 MiB");
  assert.equal(formatMiB(undefined), "–");
});

Deno.test("formatAxis drops trailing zeros and keeps small values readable", () => {
  assert.equal(formatAxis(250), "250");
  assert.equal(formatAxis(12.5), "12.5");
  assert.equal(formatAxis(40), "40");
  assert.equal(formatAxis(1.25), "1.25");
  assert.equal(formatAxis(0), "0");
  assert.equal(formatAxis(Number.NaN), "");
});

Deno.test("niceCeil never goes below the value and rounds up to a round number", () => {
  for (const v of [0.3, 1, 7, 99, 100, 101, 250, 270, 324, 1234, 98765]) {
    const n = niceCeil(v);
    assert.ok(n >= v, `${n} >= ${v}`);
    assert.ok(n <= v * 1.5 + 1, `${n} is close to ${v}`);
  }
  assert.equal(niceCeil(270), 300);
  assert.equal(niceCeil(324), 400);
  assert.equal(niceCeil(0, 5), 5);
  assert.equal(niceCeil(Number.NaN, 1), 1);
});

Deno.test("formatAge, formatSkew and formatWindow are short", () => {
  assert.equal(formatAge(200), "now");
  assert.equal(formatAge(4_200), "4 s ago");
  assert.equal(formatAge(185_000), "3 min ago");
  assert.equal(formatAge(-50), "now");
  assert.equal(formatSkew(2500), "+2.5 s");
  assert.equal(formatSkew(-180_000), "−3.0 min");
  assert.equal(formatSkew(59_990), "+1.0 min");
  assert.equal(formatSkew(3_599_998), "+1.0 h");
  assert.equal(formatWindow(60_000), "1 min");
  assert.equal(formatWindow(900_000), "15 min");
});

Deno.test("a history legend shows a min-max band only when it is one", () => {
  assert.equal(formatBand(12.04, 30.5), "12.0–30.5");
  assert.equal(formatBand(0.0123, 0.5), "0.012–0.50");
  assert.equal(formatBand(26.2, 26.2), "", "one point in the bucket");
  assert.equal(formatBand(26.21, 26.24), "", "equal as shown");
  assert.equal(formatBand(null, 3), "");
});
