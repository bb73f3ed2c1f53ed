/** The Prometheus naming rule shared by /federate, remote write and remote read. */
import assert from "node:assert/strict";
import { formatPromSeries, ourName, promName, promSeries } from "../../lib/prom/names.ts";

Deno.test("promName turns dots into underscores", () => {
  assert.deepEqual(promName("cpu.percent"), "cpu_percent");
  assert.deepEqual(promName("http.requests.p99"), "http_requests_p99");
});

Deno.test("promSeries names job and instance and keeps the series' own labels, sorted", () => {
  const s = promSeries("bookings", "h:1", 'http.requests.per_s{route="/a",job="x"}');
  assert.deepEqual(s, {
    name: "http_requests_per_s",
    labels: [["exported_job", "x"], ["instance", "h:1"], ["job", "bookings"], ["route", "/a"]],
  });
});

Deno.test("promSeries refuses a key that is not a key", () => {
  assert.deepEqual(promSeries("s", "i", "Not A Key"), null);
});

Deno.test("formatPromSeries escapes quotes, backslashes and newlines in values", () => {
  assert.deepEqual(
    formatPromSeries({ name: "m", labels: [["a", 'q"\\\n']] }),
    'm{a="q\\"\\\\\\n"}',
  );
});

Deno.test("ourName maps a Prometheus name back to the known name it came from", () => {
  assert.deepEqual(ourName("cpu_percent", ["mem.rss_bytes", "cpu.percent"]), "cpu.percent");
  assert.deepEqual(ourName("nope", ["cpu.percent"]), null);
});
