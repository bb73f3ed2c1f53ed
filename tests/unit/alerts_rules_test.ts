/** Alert rule files: parsing, validation, errors that name the line and column. */
import assert from "node:assert/strict";
import {
  DEFAULT_RULES,
  loadRules,
  parseDuration,
  parseRate,
  parseRules,
  parseSize,
  RulesError,
  selects,
} from "../../lib/alerts/rules.ts";

function errorsOf(text: string): string[] {
  try {
    parseRules(text, "rules.yaml");
  } catch (e) {
    assert.ok(e instanceof RulesError, String(e));
    return e.errors;
  }
  assert.fail("expected a RulesError");
}

Deno.test("rules parse every kind with selectors, durations, rates and webhooks", () => {
  const set = parseRules(
    `# hand-written
rules:
  - name: cpu
    kind: threshold
    metric: cpu.percent
    op: ">"
    value: 90
    for: 1m
    service: backend
    instance: "web-*"
  - name: silent
    kind: absence
    for: 2m
  - name: leak
    kind: leak
    growth: 50MB/h
    within: 6h
    confidence: 0.9
    limit: 512MiB
    warmup: 32MiB
    for: 30s
    keep_firing_for: 10m
webhooks:
  - url: http://127.0.0.1:9000/hook
  - url: https://hooks.slack.com/services/T/B/x
    format: slack
    headers: { X-Token: abc }
`,
    "rules.yaml",
  );
  assert.equal(set.rules.length, 3);
  assert.deepEqual(set.rules[0], {
    name: "cpu",
    kind: "threshold",
    metric: "cpu.percent",
    op: ">",
    value: 90,
    forMs: 60_000,
    keepFiringForMs: 0,
    service: "backend",
    instance: "web-*",
    origin: "rules.yaml:3",
  });
  assert.deepEqual(set.rules[1], {
    name: "silent",
    kind: "absence",
    forMs: 120_000,
    keepFiringForMs: 0,
    origin: "rules.yaml:11",
  });
  assert.deepEqual(set.rules[2], {
    name: "leak",
    kind: "leak",
    growthMbPerHour: 50,
    withinMs: 6 * 3_600_000,
    minConfidence: 0.9,
    limitBytes: 512 * 2 ** 20,
    warmupBytes: 32 * 2 ** 20,
    forMs: 30_000,
    keepFiringForMs: 600_000,
    origin: "rules.yaml:14",
  });
  assert.deepEqual(set.webhooks, [
    { url: "http://127.0.0.1:9000/hook", format: "json", headers: {} },
    {
      url: "https://hooks.slack.com/services/T/B/x",
      format: "slack",
      headers: { "X-Token": "abc" },
    },
  ]);
});

Deno.test("rule errors name the file, line, column and rule", () => {
  const errors = errorsOf(`rules:
  - name: ok
    kind: absence
  - name: cpu
    kind: threshold
    metric: cpu.percent
    op: ">"
    value: 90
    for: ten
`);
  assert.deepEqual(errors, [
    `rules.yaml:9:10: rule "cpu": "for" must be a duration like 1m, got "ten"`,
  ]);
});

Deno.test("rule files report every problem at once", () => {
  const errors = errorsOf(`rules:
  - name: a
    kind: threshold
    metric: cpu.percent
    op: "=>"
    value: high
  - name: a
    kind: absence
    fro: 2m
  - name: b
    kind: leak
    growth: fast
    confidence: 2
  - kind: nonsense
  - name: c
    kind: leak
webhooks:
  - url: ftp://example.com
    format: teams
alerts: []
`);
  assert.deepEqual(errors, [
    `rules.yaml:5:9: rule "a": "op" must be one of > >= < <= == !=, got "=>"`,
    `rules.yaml:6:12: rule "a": "value" must be a number, got "high"`,
    `rules.yaml:9:5: rule "a": unknown key "fro" for an absence rule (expected name, kind, service, instance, for, keep_firing_for)`,
    `rules.yaml:12:13: rule "b": "growth" must be a rate like 50MB/h, got "fast"`,
    `rules.yaml:13:17: rule "b": "confidence" must be a number above 0 and below 1 (e.g. 0.95), got 2`,
    `rules.yaml:14:5: rule 4: "name" is missing`,
    `rules.yaml:14:11: rule 4: "kind" must be threshold, absence or leak, got "nonsense"`,
    `rules.yaml:15:5: rule "c": a leak rule needs "growth" (e.g. 50MB/h), "within" (e.g. 6h) or both`,
    `rules.yaml:18:10: webhook: "url" must be an http:// or https:// URL, got "ftp://example.com"`,
    `rules.yaml:19:13: webhook: "format" must be json or slack, got "teams"`,
    `rules.yaml:20:1: unknown top-level key "alerts" (expected "rules" or "webhooks")`,
  ]);
});

Deno.test("duplicate rule names are an error at the second", () => {
  const errors = errorsOf(`rules:
  - { name: x, kind: absence }
  - { name: x, kind: absence }
`);
  assert.deepEqual(errors, [`rules.yaml:3:5: rule "x": the name is used twice`]);
});

Deno.test("YAML syntax errors name the line and column", () => {
  const errors = errorsOf(`rules:
  - name: cpu
    kind: [threshold
`);
  assert.equal(errors.length >= 1, true);
  assert.match(errors[0], /^rules\.yaml:\d+:\d+: /);
  assert.match(errorsOf("")[0], /^rules\.yaml:1:1: the file is empty/);
  assert.match(errorsOf("- a\n- b\n")[0], /^rules\.yaml:1:1: the file must be a map/);
});

Deno.test("loadRules reads a file and names it in errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/my-rules.yaml`;
    await Deno.writeTextFile(path, "rules:\n  - name: s\n    kind: absence\n    for: 3m\n");
    assert.equal((await loadRules(path)).rules[0].forMs, 180_000);
    await Deno.writeTextFile(path, "rules:\n  - name: s\n    kind: absence\n    for: soon\n");
    await assert.rejects(loadRules(path), (e: Error) => e.message.startsWith(`${path}:4:10: `));
    await assert.rejects(loadRules(`${dir}/missing.yaml`), /cannot read rules/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("units: durations, sizes (MB decimal, MiB binary) and rates", () => {
  assert.equal(parseDuration("90s"), 90_000);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("0"), 0);
  assert.equal(parseDuration("ten"), null);
  assert.equal(parseDuration("5"), null);
  assert.equal(parseSize("512MiB"), 512 * 2 ** 20);
  assert.equal(parseSize("1.5 GB"), 1.5e9);
  assert.equal(parseSize("12 parsecs"), null);
  assert.equal(parseSize("0"), 0, "nothing needs no unit, as a duration of 0");
  assert.equal(parseSize("5"), null, "anything else does");
  assert.equal(parseRate("50MB/h"), 50);
  assert.equal(parseRate("1MB/min"), 60);
  assert.equal(parseRate("80kB/s"), 288);
  assert.equal(parseRate("50MB"), null);
});

Deno.test("selectors match exactly or by glob", () => {
  assert.ok(selects(undefined, "anything"));
  assert.ok(selects("web-*", "web-1"));
  assert.ok(!selects("web-*", "api-1"));
  assert.ok(selects("a.b", "a.b"));
  assert.ok(!selects("a.b", "axb"), "dots are literal");
});

Deno.test("default rules: a leak, a silence and hot CPU", () => {
  assert.deepEqual(DEFAULT_RULES.map((r) => [r.name, r.kind]), [
    ["memory-leak", "leak"],
    ["instance-silent", "absence"],
    ["cpu-high", "threshold"],
  ]);
});

Deno.test("rule errors come in the file's order, line by line", () => {
  // One rule's checks run in their own order ("for" before "value"); the list is the file's.
  const errors = errorsOf(`rules:
  - name: cpu-high
    kind: threshold
    metric: cpu.percent
    op: ">"
    value: 80%
    for: 1 minute
  - name: leak
    kind: leek
webhooks:
  - url: not-a-url
`);
  assert.deepEqual(errors.map((e) => e.split(":").slice(1, 2).join()), ["6", "7", "9", "11"]);
});
