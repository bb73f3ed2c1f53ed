/**
 * Alerts end with what they are about: an instance that said goodbye raises nothing and
 * resolves its leak alert; a crash raises one silent alert that resolves once the instance is
 * gone; redeploys do not pile up alerts; a collector restart re-evaluates from data.
 */
import assert from "node:assert/strict";
import { createAlertEngine } from "../../lib/alerts/engine.ts";
import { openAlertStore } from "../../lib/alerts/store.ts";
import { DEFAULT_RULES, parseRules } from "../../lib/alerts/rules.ts";
import type { Notifier } from "../../lib/alerts/notify.ts";
import type { Alert } from "../../lib/alerts/types.ts";
import { MB } from "../../lib/alerts/leak.ts";
import { GONE_AFTER_INTERVALS, STALE_AFTER_INTERVALS } from "../../lib/model/instance.ts";
import type { InstanceView } from "../../lib/live/messages.ts";
import { instanceView } from "../support/views.ts";

const T0 = 1_700_000_000_000;

function recorder(): Notifier & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    notify: (status, alert) => void events.push(`${status} ${alert.rule} ${alert.instance}`),
    stats: () => ({ sent: events.length, failed: 0, retried: 0, dropped: 0, queued: 0 }),
    idle: () => Promise.resolve(),
    close: () => {},
  };
}

/** The status the collector's sweep gives a silent instance (instances.ts), or stopped. */
function sweep(v: InstanceView, now: number): void {
  if (v.status === "stopped") return;
  const silent = now - v.lastSeen;
  v.status = silent > GONE_AFTER_INTERVALS * v.intervalMs
    ? "gone"
    : silent > STALE_AFTER_INTERVALS * v.intervalMs
    ? "stale"
    : "live";
}

/**
 * Drive one engine second by second from `from` to `to` (s): each instance that reports at
 * second s (`reports(v, s)`) sends its RSS, by default growing 1 MB/s; the sweep's status
 * follows its silence.
 */
function run(
  engine: ReturnType<typeof createAlertEngine>,
  views: InstanceView[],
  from: number,
  to: number,
  reports: (v: InstanceView, s: number) => boolean,
  clock: { now: number },
  rss = (s: number) => 100 * MB + s * MB,
) {
  for (let s = from; s <= to; s++) {
    clock.now = T0 + s * 1000;
    for (const v of views) {
      if (v.status !== "stopped" && reports(v, s)) {
        v.lastSeen = clock.now;
        engine.observe(v, [[clock.now, { "mem.rss_bytes": rss(s) }]]);
      }
      sweep(v, clock.now);
    }
    engine.evaluate(clock.now, views);
  }
}

Deno.test("goodbye: a stopped instance raises no silent alert and its leak alert resolves", () => {
  const clock = { now: T0 };
  const notifier = recorder();
  const engine = createAlertEngine({ rules: DEFAULT_RULES, now: () => clock.now, notifier });
  const v = instanceView({ instance: "leaky" }, T0);
  run(engine, [v], 0, 200, () => true, clock);
  assert.deepEqual(engine.list().active.map((a) => `${a.rule} ${a.state}`), [
    "memory-leak firing",
  ]);
  v.status = "stopped"; // its goodbye arrived
  run(engine, [v], 201, 201 + 10 * 60, () => false, clock);
  assert.deepEqual(engine.list().active, [], "nothing active for a stopped instance");
  const [resolved] = engine.list().recent;
  assert.equal(resolved.rule, "memory-leak");
  assert.equal(
    resolved.resolvedAt,
    T0 + 200_000,
    "resolved as of its goodbye (its last report), not after keep_firing_for",
  );
  assert.equal(resolved.message, "instance stopped (said goodbye)");
  assert.equal(engine.leakOf(v.id), null, "no estimate drawn for a stopped instance");
  assert.deepEqual(notifier.events, [
    `firing memory-leak ${v.id}`,
    `resolved memory-leak ${v.id}`,
  ]);
});

Deno.test("crash: one silent alert, resolved as 'instance gone' after 60 missed intervals", () => {
  const clock = { now: T0 };
  const notifier = recorder();
  const engine = createAlertEngine({ rules: DEFAULT_RULES, now: () => clock.now, notifier });
  const v = instanceView({ instance: "crashy" }, T0);
  // Reports for 60 s, then is killed (no goodbye) and never comes back: 3 days of silence.
  run(engine, [v], 0, 3 * 86_400, (_, s) => s <= 60, clock);
  assert.equal(v.status, "gone");
  assert.deepEqual(engine.list().active, []);
  assert.deepEqual(notifier.events, [
    `firing instance-silent ${v.id}`,
    `resolved instance-silent ${v.id}`,
  ]);
  const [a] = engine.list().recent;
  assert.equal(a.message, "instance gone");
  assert.equal(a.firedAt, T0 + 60_000 + 30_000, "fired after 30 s of silence");
  assert.equal(a.resolvedAt, T0 + 60_000 + 61_000, "resolved when the sweep calls it gone");
});

Deno.test("crash of a leaking app: its leak alert ends with its last report, the silent one when gone", () => {
  const clock = { now: T0 };
  const engine = createAlertEngine({ rules: DEFAULT_RULES, now: () => clock.now });
  const v = instanceView({ instance: "oom" }, T0);
  run(engine, [v], 0, 400, (_, s) => s <= 200, clock); // leaks 1 MB/s, killed after 200 s
  assert.equal(v.status, "gone");
  const ended = new Map(engine.list().recent.map((a) => [a.rule, a]));
  assert.equal(ended.get("memory-leak")?.message, "instance gone");
  assert.equal(ended.get("memory-leak")?.resolvedAt, T0 + 200_000, "its last report");
  assert.equal(
    ended.get("instance-silent")?.resolvedAt,
    T0 + 200_000 + 61_000,
    "silent until the sweep called it gone",
  );
});

Deno.test("an instance reporting once a minute (OTLP's default) is silent only after 3 missed reports", () => {
  const clock = { now: T0 };
  const notifier = recorder();
  const engine = createAlertEngine({ rules: DEFAULT_RULES, now: () => clock.now, notifier });
  const v = instanceView({ instance: "otel", intervalMs: 60_000 }, T0);
  // Ten minutes of exports a minute apart: 59 s without a report is its rhythm, not silence.
  run(engine, [v], 0, 600, (_, s) => s % 60 === 0, clock, () => 100 * MB);
  assert.deepEqual(notifier.events, [], "no silent alert between exports");
  // Then it stops: stale after three missed exports, and silent since its last one.
  run(engine, [v], 601, 900, () => false, clock, () => 100 * MB);
  assert.deepEqual(notifier.events, [`firing instance-silent ${v.id}`]);
  const [a] = engine.list().active;
  assert.equal(a.firedAt, T0 + 600_000 + 181_000, "when the sweep calls it stale");
});

Deno.test("crash: a silent rule whose 'for' outlasts the gone time still fires, once", () => {
  const clock = { now: T0 };
  const notifier = recorder();
  const engine = createAlertEngine({
    rules: parseRules(`rules: [{ name: silent, kind: absence, for: 5m }]`),
    now: () => clock.now,
    notifier,
  });
  const v = instanceView({ instance: "crashy" }, T0);
  run(engine, [v], 0, 600, (_, s) => s <= 10, clock);
  assert.deepEqual(notifier.events, [`firing silent ${v.id}`, `resolved silent ${v.id}`]);
  assert.equal(engine.list().recent[0].message, "instance gone");
});

Deno.test("redeploys under new hostnames do not pile up alerts", () => {
  const clock = { now: T0 };
  const notifier = recorder();
  const engine = createAlertEngine({ rules: DEFAULT_RULES, now: () => clock.now, notifier });
  // 20 deploys, 10 min apart; each new container (new host name, so a new instance id)
  // replaces the last, half of which stop cleanly and half of which are killed.
  const views: InstanceView[] = [];
  let most = 0;
  for (let d = 0; d < 20; d++) {
    const v = instanceView({ instance: `web-${d}:1`, host: `web-${d}` }, T0 + d * 600_000);
    views.push(v);
    const prev = views[d - 1];
    if (prev && d % 2 === 0) prev.status = "stopped";
    run(engine, views, d * 600, d * 600 + 599, (x) => x === v, clock, () => 80 * MB);
    most = Math.max(most, engine.list().active.length);
  }
  assert.deepEqual(engine.list().active, [], "every old instance stopped or is gone");
  assert.ok(most <= 1, `at most the latest crash alerts at a time (saw ${most})`);
  const silent = notifier.events.filter((e) => e.startsWith("firing instance-silent"));
  assert.equal(silent.length, 10, "one silent alert per crash, none per clean stop");
});

Deno.test("a collector restart starts with no firing alert and re-evaluates from data", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const clock = { now: T0 };
    const leaky = instanceView({ instance: "leaky" }, T0);
    const stopped = instanceView({ instance: "stopped" }, T0);
    const flat = instanceView({ instance: "flat" }, T0);
    const views = [leaky, stopped, flat];
    const first = createAlertEngine({
      rules: DEFAULT_RULES,
      now: () => clock.now,
      store: openAlertStore(dir),
      notifier: recorder(),
    });
    run(first, views, 0, 200, () => true, clock); // all three "leak" 1 MB/s
    assert.deepEqual(first.list().active.map((a) => `${a.rule} ${a.state} ${a.instance}`), [
      `memory-leak firing ${leaky.id}`,
      `memory-leak firing ${stopped.id}`,
      `memory-leak firing ${flat.id}`,
    ]);
    const before = new Map(first.list().active.map((a) => [a.instance, a]));
    first.close(); // the collector stops (say, killed)

    // It restarts a minute later: the views come back from history (restore keeps stopped).
    const notifier = recorder();
    clock.now = T0 + 260_000;
    const second = createAlertEngine({
      rules: DEFAULT_RULES,
      now: () => clock.now,
      store: openAlertStore(dir),
      notifier,
    });
    assert.deepEqual(second.list().active, [], "nothing replayed as firing");
    stopped.status = "stopped";
    for (const v of [leaky, flat]) v.status = "stale";
    // leaky keeps leaking, flat stays flat from now on.
    const seen: string[] = [];
    for (let s = 260; s <= 600; s++) {
      clock.now = T0 + s * 1000;
      for (const v of [leaky, flat]) {
        v.lastSeen = clock.now;
        v.status = "live";
        const rss = v === leaky ? 100 * MB + s * MB : 300 * MB;
        second.observe(v, [[clock.now, { "mem.rss_bytes": rss }]]);
      }
      second.evaluate(clock.now, views);
      for (const a of second.list().active) seen.push(`${s} ${a.state} ${a.instance}`);
    }
    assert.ok(
      !seen.some((x) => x.includes(stopped.id) || x.includes(flat.id)),
      "no alert for the stopped or the flat instance after the restart",
    );
    const [confirmed] = second.list().active;
    assert.equal(confirmed.instance, leaky.id);
    assert.equal(confirmed.state, "firing");
    assert.equal(confirmed.id, before.get(leaky.id)!.id, "the same alert, confirmed by data");
    assert.equal(confirmed.firedAt, before.get(leaky.id)!.firedAt);
    assert.ok(Number(seen[0].split(" ")[0]) >= 260 + 90, "confirmed only once there is data");
    const recent = new Map(second.list().recent.map((a) => [a.instance, a]));
    assert.equal(recent.get(stopped.id)!.message, "instance stopped (said goodbye)");
    assert.equal(
      recent.get(stopped.id)!.resolvedAt,
      T0 + 200_000,
      "ended with its last report before the restart, not at the restart",
    );
    assert.equal(
      recent.get(flat.id)!.message,
      "not confirmed by the data after a collector restart",
    );
    assert.ok(recent.get(flat.id)!.resolvedAt! >= T0 + 260_000, "known only after the restart");
    assert.deepEqual(notifier.events.sort(), [
      `resolved memory-leak ${flat.id}`,
      `resolved memory-leak ${stopped.id}`,
    ], "no second firing notification for the confirmed alert");
    second.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("across two restarts in a row a carried alert fires once, goes on firing, and its end is told", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const clock = { now: T0 };
    const leaky = instanceView({ instance: "leaky" }, T0);
    const healed = instanceView({ instance: "healed" }, T0);
    const views = [leaky, healed];
    const notifier = recorder();
    const engine = () =>
      createAlertEngine({
        rules: DEFAULT_RULES,
        now: () => clock.now,
        store: openAlertStore(dir),
        notifier,
      });
    const first = engine();
    run(first, views, 0, 200, () => true, clock); // both leak 1 MB/s
    first.close();
    // Restart 1: the data confirms both; the page shows them firing, not pending again.
    clock.now = T0 + 260_000;
    const second = engine();
    let s = 260;
    while (second.list().active.length < 2 && s < 600) {
      run(second, views, s, s++, () => true, clock);
    }
    assert.deepEqual(second.list().active.map((a) => `${a.state} ${a.instance}`).sort(), [
      `firing ${healed.id}`,
      `firing ${leaky.id}`,
    ]);
    second.close();
    // Restart 2, right after the confirmation: leaky leaks on, healed is flat from now on.
    clock.now = T0 + (s + 20) * 1000;
    const third = engine();
    const from = s + 20;
    for (let t = from; t <= from + 460; t++) {
      clock.now = T0 + t * 1000;
      for (const v of views) {
        v.lastSeen = clock.now;
        const rss = 100 * MB + (v === leaky ? t : from) * MB;
        third.observe(v, [[clock.now, { "mem.rss_bytes": rss }]]);
      }
      third.evaluate(clock.now, views);
    }
    assert.deepEqual(third.list().active.map((a) => `${a.state} ${a.instance}`), [
      `firing ${leaky.id}`,
    ]);
    assert.deepEqual(notifier.events.sort(), [
      `firing memory-leak ${healed.id}`,
      `firing memory-leak ${leaky.id}`,
      `resolved memory-leak ${healed.id}`,
    ], "one firing each, and the healed one's end");
    third.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a fired alert whose rule is gone after a restart is resolved, and told", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const clock = { now: T0 };
    const leaky = instanceView({ instance: "leaky" }, T0);
    const first = createAlertEngine({
      rules: DEFAULT_RULES,
      now: () => clock.now,
      store: openAlertStore(dir),
      notifier: recorder(),
    });
    run(first, [leaky], 0, 200, () => true, clock);
    first.close();
    const notifier = recorder();
    const renamed = DEFAULT_RULES.filter((r) => r.name !== "memory-leak");
    const second = createAlertEngine({
      rules: renamed,
      now: () => clock.now,
      store: openAlertStore(dir),
      notifier,
    });
    assert.deepEqual(notifier.events, [`resolved memory-leak ${leaky.id}`]);
    assert.equal(second.list().recent[0].message, 'rule "memory-leak" no longer exists');
    second.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("after a restart, silence is alerted only where a collector saw it begin", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const clock = { now: T0 };
    const notifier = recorder();
    const engine = () =>
      createAlertEngine({
        rules: DEFAULT_RULES,
        now: () => clock.now,
        store: openAlertStore(dir),
        notifier,
      });
    const back = instanceView({ instance: "back" }, T0);
    const never = instanceView({ instance: "never" }, T0);
    const fell = instanceView({ instance: "fell" }, T0);
    const dead = instanceView({ instance: "dead" }, T0);
    const views = [back, never, fell, dead];
    // The first run: all live; `fell` falls silent 10 s before the stop (its alert pending).
    const first = engine();
    run(first, views, 0, 60, (v, s) => v !== fell || s < 50, clock);
    assert.deepEqual(first.list().active.map((a) => `${a.state} ${a.instance}`), [
      `pending ${fell.id}`,
    ]);
    first.close();
    // An hour later: restored as stale (`dead` as gone), as instances.ts restores them.
    const restart = T0 + 3_600_000;
    clock.now = restart;
    for (const v of views) v.status = v === dead ? "gone" : "stale";
    const second = engine();
    for (let s = 0; s <= 120; s++) {
      clock.now = restart + s * 1000;
      if (s >= 5) {
        back.status = "live";
        back.lastSeen = clock.now;
      }
      second.evaluate(clock.now, views);
      if (s === 5) assert.deepEqual(second.list().active.map((a) => a.state), ["pending"]);
    }
    // `back` reported within 5 s; `never` was live at the stop and did not: nothing for
    // either. `fell` was seen falling silent: its alert goes on and fires `for` after start.
    assert.deepEqual(second.list().active.map((a) => `${a.state} ${a.instance}`), [
      `firing ${fell.id}`,
    ]);
    assert.equal(second.list().active[0].firedAt, restart + 30_000);
    assert.deepEqual(notifier.events, [`firing instance-silent ${fell.id}`]);
    // `never` goes gone 60 intervals after the restart: still nothing said of it.
    never.status = "gone";
    second.evaluate(clock.now += 1000, views);
    assert.deepEqual(
      [...second.list().active, ...second.list().recent].filter((a) => a.instance === never.id),
      [],
    );
    second.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Types only: the alert shape the assertions read. */
export type { Alert };

Deno.test("with its RSS history primed, a leak alert goes on across a collector restart at once", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const clock = { now: T0 };
    const leaky = instanceView({ instance: "leaky" }, T0);
    const redeployed = instanceView({ instance: "redeployed" }, T0);
    const views = [leaky, redeployed];
    const first = createAlertEngine({
      rules: DEFAULT_RULES,
      now: () => clock.now,
      store: openAlertStore(dir),
      notifier: recorder(),
    });
    run(first, views, 0, 600, () => true, clock); // both leak 1 MB/s for 10 minutes
    const before = new Map(first.list().active.map((a) => [a.instance, a]));
    assert.equal(before.get(leaky.id)?.state, "firing");
    first.close();

    // Back 2 minutes later with the last 10 minutes of RSS from history (3 s buckets).
    const notifier = recorder();
    clock.now = T0 + 720_000;
    const second = createAlertEngine({
      rules: DEFAULT_RULES,
      now: () => clock.now,
      store: openAlertStore(dir),
      notifier,
    });
    const { resolutionMs } = second.leakWindow;
    const times = Array.from({ length: 200 }, (_, i) => T0 + i * resolutionMs);
    const values = times.map((t) => 100 * MB + ((t - T0) / 1000) * MB);
    for (const v of views) {
      v.status = "stale";
      second.primeLeak(v, times, values);
    }
    const leaks = () => second.list().active.filter((a) => a.kind === "leak");
    second.evaluate(clock.now, views);
    assert.deepEqual(leaks(), [], "nothing judged before the instance reports");
    // The first new samples: leaky from the same process, redeployed from a new one.
    clock.now += 1000;
    redeployed.restarts++;
    redeployed.startedAt = clock.now - 500;
    for (const v of views) {
      v.status = "live";
      v.lastSeen = clock.now;
      second.observe(v, [[clock.now, { "mem.rss_bytes": 100 * MB + 721 * MB }]]);
    }
    second.evaluate(clock.now, views);
    const active = leaks();
    assert.deepEqual(active.map((a) => a.instance), [leaky.id], "confirmed at its first sample");
    assert.equal(active[0].id, before.get(leaky.id)!.id, "the same alert");
    assert.ok(second.leakOf(leaky.id)!.spanMs > 500_000, "the trend over the history too");
    assert.equal(second.leakOf(redeployed.id), null, "a new process starts with no trend");
    run(second, views, 722, 740, () => true, clock, (s) => 100 * MB + s * MB);
    assert.equal(leaks().find((a) => a.instance === leaky.id)?.state, "firing");
    assert.deepEqual(
      notifier.events.filter((e) => e.includes(`memory-leak ${leaky.id}`)),
      [],
      "no resolving and no second firing notification",
    );
    second.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a store that cannot write (a full disk) is said once a minute, with a count", () => {
  const clock = { now: T0 };
  const lines: string[] = [];
  const full = () => {
    throw new Error("database or disk is full");
  };
  const engine = createAlertEngine({
    rules: parseRules(
      `rules: [{ name: hot, kind: threshold, metric: cpu.percent, op: ">", value: 1, for: 0s }]`,
    ),
    now: () => clock.now,
    store: {
      save: full,
      remove: full,
      load: () => ({ active: [], resolved: [] }),
      prune: full,
      close() {},
    },
    log: (l) => lines.push(l),
  });
  const views = Array.from({ length: 20 }, (_, i) => instanceView({ instance: `i${i}` }, T0));
  const report = (cpu: number) => {
    for (const v of views) {
      v.lastSeen = clock.now;
      engine.observe(v, [[clock.now, { "cpu.percent": cpu }]]);
    }
    engine.evaluate(clock.now, views);
  };
  report(50); // 20 alerts fire: every save fails
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.match(lines[0], /^alerts: cannot store hot\|.*: database or disk is full$/);
  clock.now += 61_000;
  report(0); // and resolve
  assert.equal(lines.length, 2, lines.join("\n"));
  assert.match(lines[1], /\(\d+ more since the last line\)$/);
});
