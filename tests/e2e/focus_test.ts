/// <reference lib="dom" />
/**
 * Narrowing the page to one service, in real headless Chromium against a real collector with
 * a data directory, fed real ZMQ frames by three apps of two services ("api" x2, "worker").
 * A click on a service card leaves only that service's lines in the live and history charts
 * (debug hook and canvas pixels), its chips in the legends and its rows in the table; the
 * link keeps the focus through a reload; widening again (the header's "show all", or the
 * focused card) brings every service back and keeps an instance the user hid hidden. With every
 * instance it would draw hidden, the page says so above the charts, and its "Show all" brings
 * them back. The alerts panel lists the focused service's alerts only.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { parseRules } from "../../lib/alerts/rules.ts";
import {
  assertClean,
  countPixels,
  ensureBuiltWithCss,
  type FakeApp,
  identity,
  launchBrowser,
  openDashboard,
  startFakeApp,
  startTestCollector,
  stopAll,
  waitForPixels,
  waitState,
} from "./support.ts";

type Rgb = [number, number, number];
const APPS = {
  a: { service: "api", instance: "a", id: "api/a", color: "#e53935", rgb: [0xe5, 0x39, 0x35] },
  // A Kubernetes-style pod name, longer than a legend chip shows.
  b: {
    service: "api",
    instance: "api-7d9f8c4b5-x2k4p-canary-eu-west-1a",
    id: "api/api-7d9f8c4b5-x2k4p-canary-eu-west-1a",
    color: "#1e88e5",
    rgb: [0x1e, 0x88, 0xe5],
  },
  w: {
    service: "worker",
    instance: "w",
    id: "worker/w",
    color: "#43a047",
    rgb: [0x43, 0xa0, 0x47],
  },
} as const satisfies Record<
  string,
  { service: string; instance: string; id: string; color: string; rgb: Rgb }
>;
const ALL = Object.values(APPS);
const QUEUE = "queue.depth";
/** One alert, on the worker (its CPU is 40 ± 5 %), for the alerts panel's focus. */
const RULES = `
rules:
  - name: worker-cpu-high
    kind: threshold
    service: worker
    metric: cpu.percent
    op: ">"
    value: 5
    for: 1s
`;

interface Debug {
  __zeroapm: {
    snapshot(): {
      focus: string | null;
      hidden: string[];
      instances: string[];
      charts: Record<"cpu" | "mem", { lines: Array<{ id: string; hidden: boolean }> }>;
    };
    panels(): Array<{ service: string; focused: boolean }>;
    picker(): Array<{ key: string }>;
    alerts(): { active: Array<{ rule: string; instance: string }> };
    history(): {
      loading: boolean;
      answers: number;
      lastUrl: string | null;
      cpu: { series: Array<{ id: string; points: number }> };
      mem: { series: Array<{ id: string; points: number }> };
    };
  };
}

function snap(page: Page) {
  return page.evaluate(() => (globalThis as unknown as Debug).__zeroapm.snapshot());
}

/** Which live lines are hidden, by instance id, on both charts (they must agree). */
async function hiddenLines(page: Page): Promise<Record<string, boolean>> {
  const s = await snap(page);
  const cpu = Object.fromEntries(s.charts.cpu.lines.map((l) => [l.id, l.hidden]));
  const mem = Object.fromEntries(s.charts.mem.lines.map((l) => [l.id, l.hidden]));
  assert.deepEqual(mem, cpu, "both charts hide the same lines");
  return cpu;
}

/** The series keys the metric picker offers. */
function pickable(page: Page): Promise<string[]> {
  return page.evaluate(() => (globalThis as unknown as Debug).__zeroapm.picker().map((o) => o.key));
}

function hash(page: Page): URLSearchParams {
  return new URLSearchParams(new URL(page.url()).hash.slice(1));
}

/** Wait until the canvas shows (almost) none of `rgb`: the live chart has redrawn. */
async function waitNoPixels(page: Page, canvas: string, rgb: Rgb): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (true) {
    const px = await countPixels(page, canvas, rgb, { tol: 24 });
    if (px.count < 5) return;
    assert.ok(Date.now() < deadline, `${canvas}: still ${px.count} px of rgb(${rgb})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The instance ids whose table rows and CPU legend chips are visible. */
async function visibleIds(page: Page): Promise<{ rows: string[]; chips: string[] }> {
  const rows: string[] = [];
  const chips: string[] = [];
  for (const app of ALL) {
    if (await page.isVisible(`#instances tr[data-id="${app.id}"]`)) rows.push(app.id);
    if (await page.isVisible(`#cpu-legend li[data-id="${app.id}"]`)) chips.push(app.id);
  }
  return { rows, chips };
}

Deno.test({
  name: "focus on a service in Chromium: card click, charts, legends, table, link, show all",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await ensureBuiltWithCss();
    const dataDir = await Deno.makeTempDir({ prefix: "zeroapm-focus-e2e-" });
    const collector = await startTestCollector({
      dataDir,
      rules: parseRules(RULES, "focus-rules.yaml"),
    });
    let apps: FakeApp[] = [];
    let browser: Browser | null = null;
    const pages: Page[] = [];
    try {
      apps = ALL.map((app, i) =>
        startFakeApp(
          collector.zmqEndpoint,
          identity(app.service, app.instance, app.color, 200, 5100 + i),
          (s) => ({
            cpu: 20 + 10 * i + 5 * Math.sin(s),
            memMiB: 100 + 40 * i,
            // Only the worker has a custom metric: the picker follows the focus.
            ...(app.service === "worker" ? { extra: { [QUEUE]: 7 } } : {}),
          }),
        )
      );
      browser = await launchBrowser();
      const w = await openDashboard(browser, `${collector.httpUrl}/`);
      pages.push(w.page);
      const page = w.page;
      await waitState(page, "live");
      // The 1-minute window: a few seconds of data make long lines.
      await page.click('#window button[data-ms="60000"]');
      await page.waitForFunction(
        (n) => {
          const z = (globalThis as unknown as Debug).__zeroapm;
          return z.snapshot().charts.cpu.lines.length === n && z.panels().length === 2;
        },
        ALL.length,
        { timeout: 15_000 },
      );
      for (const app of ALL) await waitForPixels(page, "cpu-chart", app.rgb, 30, { tol: 24 });

      await page.waitForFunction(
        (key) => (globalThis as unknown as Debug).__zeroapm.picker().some((o) => o.key === key),
        QUEUE,
        { timeout: 15_000 },
      );

      await t.step("a legend chip names a pod by its name alone, cut in the middle", async () => {
        const chip = (id: string) =>
          page.$eval(
            `#cpu-legend li[data-id="${id}"] .chip-name`,
            (e) => [e.textContent ?? "", (e as HTMLElement).title],
          );
        assert.deepEqual(await chip(APPS.a.id), ["api · a", "api · a"]);
        const [text, title] = await chip(APPS.b.id);
        assert.equal(title, `api · ${APPS.b.instance}`);
        assert.ok(
          text.startsWith("api-7d9f") && text.endsWith("west-1a") && text.includes("…"),
          `chip reads ${text}`,
        );
      });

      await t.step("a hidden instance first: the user hides api/b from its row", async () => {
        await page.click(`#instances tr[data-id="${APPS.b.id}"] .c-service`);
        assert.deepEqual(await hiddenLines(page), {
          [APPS.a.id]: false,
          [APPS.b.id]: true,
          [APPS.w.id]: false,
        });
      });

      await t.step("a click on a service card shows only that service", async () => {
        assert.equal(await page.isVisible("#focus"), false, "no focus note before");
        await page.click('.svc[data-service="worker"]');
        const s = await snap(page);
        assert.equal(s.focus, "worker");
        assert.deepEqual(s.hidden, [APPS.b.id], "the user's own hidden set is unchanged");
        assert.deepEqual(await hiddenLines(page), {
          [APPS.a.id]: true,
          [APPS.b.id]: true,
          [APPS.w.id]: false,
        });
        // Drawn pixels: only the worker's colour is left on both live charts.
        for (const canvas of ["cpu-chart", "mem-chart"]) {
          await waitNoPixels(page, canvas, APPS.a.rgb);
          await waitForPixels(page, canvas, APPS.w.rgb, 30, { tol: 24 });
        }
        assert.deepEqual(await visibleIds(page), { rows: [APPS.w.id], chips: [APPS.w.id] });
        assert.equal(await page.isVisible('.group-head[data-service="api"]'), false);
        assert.equal(await page.isVisible('.group-head[data-service="worker"]'), true);
        // The header says so, the card is marked, the link holds it.
        assert.equal(await page.isVisible("#focus"), true);
        assert.equal(await page.textContent("#focus-name"), "worker");
        const panels = await page.evaluate(() =>
          (globalThis as unknown as Debug).__zeroapm.panels()
        );
        assert.deepEqual(
          panels.map((p) => [p.service, p.focused]).sort(),
          [["api", false], ["worker", true]],
        );
        assert.equal(
          await page.getAttribute('.svc[data-service="worker"] .svc-pick', "aria-pressed"),
          "true",
        );
        assert.equal(hash(page).get("service"), "worker");
        assert.deepEqual(await pickable(page), [QUEUE], "the worker's metric is offered");
        assertClean(w);
      });

      await t.step("the history view is narrowed the same way", async () => {
        await page.click("#tab-history");
        await page.waitForFunction(
          () => {
            const h = (globalThis as unknown as Debug).__zeroapm.history();
            return !h.loading && h.answers >= 1 && h.cpu.series.some((s) => s.points > 0);
          },
          undefined,
          { timeout: 15_000 },
        );
        const h = await page.evaluate(() => (globalThis as unknown as Debug).__zeroapm.history());
        assert.deepEqual(h.cpu.series.map((s) => s.id), [APPS.w.id]);
        assert.deepEqual(h.mem.series.map((s) => s.id), [APPS.w.id]);
        assert.equal(await page.isVisible("#focus"), true, "the note stays in history");
        await page.click("#tab-live");
      });

      await t.step("the link opens the same focus after a reload", async () => {
        await page.reload();
        await waitState(page, "live");
        await page.waitForFunction(
          (n) =>
            (globalThis as unknown as Debug).__zeroapm.snapshot().charts.cpu.lines.length === n,
          ALL.length,
          { timeout: 15_000 },
        );
        assert.equal((await snap(page)).focus, "worker");
        assert.deepEqual(await hiddenLines(page), {
          [APPS.a.id]: true,
          [APPS.b.id]: true,
          [APPS.w.id]: false,
        });
        assert.deepEqual(await visibleIds(page), { rows: [APPS.w.id], chips: [APPS.w.id] });
        assert.equal(await page.textContent("#focus-name"), "worker");
        // Opened focused, the history view asks for the worker's series only.
        await page.click("#tab-history");
        await page.waitForFunction(
          () => {
            const h = (globalThis as unknown as Debug).__zeroapm.history();
            return !h.loading && h.answers >= 1;
          },
          undefined,
          { timeout: 15_000 },
        );
        const h = await page.evaluate(() => (globalThis as unknown as Debug).__zeroapm.history());
        assert.ok(h.lastUrl);
        assert.deepEqual(new URL(h.lastUrl, "http://x").searchParams.getAll("instance"), [
          APPS.w.id,
        ]);
        await page.click("#tab-live");
      });

      await t.step("another card moves the focus; the focused card widens again", async () => {
        await page.click('.svc[data-service="api"]');
        assert.equal((await snap(page)).focus, "api");
        assert.deepEqual(await pickable(page), [], "api reports no custom metric");
        assert.deepEqual(await visibleIds(page), {
          rows: [APPS.a.id, APPS.b.id],
          chips: [APPS.a.id, APPS.b.id],
        });
        assert.deepEqual(await hiddenLines(page), {
          [APPS.a.id]: false,
          [APPS.b.id]: true,
          [APPS.w.id]: true,
        });
        await page.click('.svc[data-service="api"] .svc-pick');
        assert.equal((await snap(page)).focus, null);
        assert.equal(hash(page).has("service"), false);
      });

      await t.step("show all brings every service back and keeps api/b hidden", async () => {
        await page.click('.svc[data-service="worker"]');
        await page.click("#focus-clear");
        const s = await snap(page);
        assert.equal(s.focus, null);
        assert.deepEqual(s.hidden, [APPS.b.id]);
        assert.deepEqual(await hiddenLines(page), {
          [APPS.a.id]: false,
          [APPS.b.id]: true,
          [APPS.w.id]: false,
        });
        assert.deepEqual(await visibleIds(page), {
          rows: ALL.map((a) => a.id),
          chips: ALL.map((a) => a.id),
        });
        assert.equal(await page.isVisible("#focus"), false);
        assert.equal(hash(page).has("service"), false);
        assert.deepEqual(hash(page).getAll("hide"), [APPS.b.id]);
        await waitForPixels(page, "cpu-chart", APPS.a.rgb, 30, { tol: 24 });
        assertClean(w);
      });

      await t.step(
        "every instance hidden: a note says so, and its Show all shows them",
        async () => {
          assert.equal(await page.isVisible("#all-hidden"), false, "no note with lines drawn");
          await page.click(`#instances tr[data-id="${APPS.a.id}"] .c-service`);
          assert.equal(await page.isVisible("#all-hidden"), false, "the worker is still drawn");
          // Narrowed to api, whose two instances are both hidden: its charts are empty.
          await page.click('.svc[data-service="api"]');
          await page.waitForSelector("#all-hidden", { state: "visible", timeout: 5_000 });
          assert.equal(
            await page.textContent("#all-hidden-text"),
            "All 2 instances of api are hidden from the charts: click a row in Instances to show" +
              " one, or",
          );
          await page.click("#focus-clear");
          await page.waitForSelector("#all-hidden", { state: "hidden", timeout: 5_000 });
          await page.click(`#instances tr[data-id="${APPS.w.id}"] .c-service`);
          await page.waitForSelector("#all-hidden", { state: "visible", timeout: 5_000 });
          assert.match(
            (await page.textContent("#all-hidden-text")) ?? "",
            /^All 3 instances are hidden from the charts/,
          );
          for (const app of ALL) await waitNoPixels(page, "cpu-chart", app.rgb);
          // Each empty chart says so too: the note above may be scrolled out of view.
          const inChart = () =>
            page.evaluate(() =>
              getComputedStyle(document.getElementById("cpu-chart")!.parentElement!, "::after")
                .content
            );
          assert.match(await inChart(), /Every instance is hidden/);
          // The history view draws the same instances: the note is there too.
          await page.click("#tab-history");
          assert.equal(await page.isVisible("#all-hidden"), true, "the note stays in history");
          await page.click("#tab-live");
          await page.click("#show-all");
          await page.waitForSelector("#all-hidden", { state: "hidden", timeout: 5_000 });
          assert.deepEqual((await snap(page)).hidden, []);
          assert.deepEqual(await hiddenLines(page), {
            [APPS.a.id]: false,
            [APPS.b.id]: false,
            [APPS.w.id]: false,
          });
          assert.deepEqual(hash(page).getAll("hide"), []);
          assert.equal(await inChart(), "none");
          for (const app of ALL) await waitForPixels(page, "cpu-chart", app.rgb, 30, { tol: 24 });
          assertClean(w);
        },
      );

      await t.step("the alerts panel lists the focused service's alerts only", async () => {
        const listed = () =>
          page.evaluate(() =>
            (globalThis as unknown as Debug).__zeroapm.alerts().active.map((a) => a.instance)
          );
        await page.waitForFunction(
          () =>
            (globalThis as unknown as Debug).__zeroapm.alerts().active
              .some((a) => a.rule === "worker-cpu-high"),
          undefined,
          { timeout: 15_000 },
        );
        assert.deepEqual(await listed(), [APPS.w.id]);
        await page.click('.svc[data-service="api"]');
        assert.deepEqual(await listed(), [], "api has no alert");
        assert.equal(await page.textContent("#alerts-empty"), "No alerts for api");
        assert.equal(await page.isVisible("#alerts-empty"), true);
        assert.equal(
          await page.textContent("#alerts-summary"),
          "none active · 1 in other services",
        );
        // The header's count is the page's: the worker's alert is still there.
        assert.equal(await page.textContent("#alerts-badge"), "1 alert");
        await page.click('.svc[data-service="worker"]');
        assert.deepEqual(await listed(), [APPS.w.id]);
        assert.match((await page.textContent("#alerts-summary")) ?? "", /^1 (firing|pending)$/);
        await page.click("#focus-clear");
        assert.deepEqual(await listed(), [APPS.w.id]);
        assert.equal(await page.textContent("#alerts-empty"), "No alerts");
        assertClean(w);
      });
    } finally {
      for (const p of pages) await p.close().catch(() => {});
      await browser?.close();
      await stopAll(apps);
      await collector.stop().catch(() => {});
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
