/** The text exposition format 0.0.4 and the provider registry behind /metrics. */
import assert from "node:assert/strict";
import {
  formatValue,
  type MetricFamily,
  PromRegistry,
  renderFamilies,
} from "../../lib/prom/exposition.ts";

const fam = (over: Partial<MetricFamily> = {}): MetricFamily => ({
  name: "x_total",
  help: "An x.",
  type: "counter",
  samples: [{ value: 1 }],
  ...over,
});

Deno.test("renderFamilies writes HELP, TYPE and samples with escaped labels and times", () => {
  const text = renderFamilies([
    fam({ help: "back\\slash\nnew line" }),
    {
      name: "g",
      help: "A g.",
      type: "gauge",
      samples: [
        { labels: [["a", 'q"\\\n'], ["b", "2"]], value: 0.5, timestampMs: 1700000000123 },
      ],
    },
  ]);
  assert.equal(
    text,
    [
      "# HELP x_total back\\\\slash\\nnew line",
      "# TYPE x_total counter",
      "x_total 1",
      "# HELP g A g.",
      "# TYPE g gauge",
      'g{a="q\\"\\\\\\n",b="2"} 0.5 1700000000123',
      "",
    ].join("\n"),
  );
  assert.equal(renderFamilies([]), "");
});

Deno.test("renderFamilies keeps one family per name, one sample per label set, valid names only", () => {
  const text = renderFamilies([
    fam({ samples: [{ value: 1 }, { value: 2 }] }),
    fam({ help: "again", samples: [{ value: 3 }] }),
    fam({ name: "bad.name" }),
  ]);
  assert.equal(text, "# HELP x_total An x.\n# TYPE x_total counter\nx_total 1\n");
});

Deno.test("formatValue spells NaN and infinities as the format does", () => {
  assert.deepEqual([NaN, Infinity, -Infinity, 2, -0.25, 1e21].map(formatValue), [
    "NaN",
    "+Inf",
    "-Inf",
    "2",
    "-0.25",
    "1e+21",
  ]);
});

Deno.test("PromRegistry renders every registered provider on each call, and unregisters", () => {
  const registry = new PromRegistry();
  let n = 0;
  registry.register(() => [fam({ samples: [{ value: ++n }] })]);
  const remove = registry.register(() => [fam({ name: "extra", type: "gauge" })]);
  assert.match(registry.render(), /^x_total 1$/m);
  assert.match(registry.render(), /^x_total 2$/m);
  assert.match(registry.render(), /^extra 1$/m);
  remove();
  assert.doesNotMatch(registry.render(), /extra/);
});
