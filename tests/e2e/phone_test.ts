/// <reference lib="dom" />
/**
 * The dashboard on a phone (390 x 844, an iPhone's viewport) in real headless Chromium
 * against a real collector fed real ZMQ frames: the page never scrolls sideways, an alert is
 * read whole (its text wraps instead of ending in "…"), the metric picker stays inside its
 * card, and the instances table keeps every name on one line and scrolls sideways in its own
 * card; the history range buttons read "15 min" on one line; the live charts' time labels
 * stay apart. Before, at this width, service names broke a letter group per line ("backe /
 * nd"), alert messages were cut to a few words, a long metric name pushed the page wider than
 * the screen, the range buttons wrapped, and the time labels ran together ("09:48:00 09:49:00").
 * A long service name beside a service with request stats (three sparklines) made the page
 * 732 px wide.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { parseRules } from "../../lib/alerts/rules.ts";
import { formatKey } from "../../lib/metric_key.ts";
import {
  assertClean,
  ensureBuiltWithCss,
  type FakeApp,
  identity,
  launchBrowser,
  openDashboard,
  startFakeApp,
  startTestCollector,
  stopAll,
  waitState,
  type ZeroapmGlobal,
} from "./support.ts";

const RULES = `
rules:
  - name: checkout-cpu-high
    kind: threshold
    service: checkout
    metric: cpu.percent
    op: ">"
    value: 5
    for: 1s
`;

/** A long series key: the picker lists it, and a select is as wide as its longest option. */
const LONG_METRIC = formatKey("http.server.duration_ms.p99", {
  route: "/api/v1/carts/:cartId/items",
});

/**
 * The time labels along a live chart's bottom, read from its pixels after a few frames: runs
 * of light grey text columns (gaps of up to 5 px are within a label), left of the y labels.
 */
async function timeLabelBoxes(
  page: Page,
  canvasId: string,
): Promise<Array<{ x: number; width: number }>> {
  await page.evaluate(() =>
    new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))
  );
  return await page.evaluate((id) => {
    const c = document.getElementById(id) as HTMLCanvasElement;
    const dpr = c.width / c.clientWidth;
    const band = Math.round(16 * dpr);
    const data = c.getContext("2d")!.getImageData(0, c.height - band, c.width, band).data;
    const s = (globalThis as unknown as ZeroapmGlobal).__zeroapm.snapshot();
    const frame = s.charts.cpu.frame!;
    const right = (frame.width - frame.gutter) * dpr;
    const runs: Array<[number, number]> = [];
    for (let x = 0; x < right; x++) {
      let text = false;
      for (let y = 0; y < band && !text; y++) {
        const i = (y * c.width + x) * 4;
        const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
        text = r > 90 && Math.abs(r - g) < 25 && Math.abs(g - b) < 30;
      }
      if (!text) continue;
      const last = runs[runs.length - 1];
      if (last && x - last[1] <= 5 * dpr) last[1] = x;
      else runs.push([x, x]);
    }
    return runs.map(([a, z]) => ({ x: a / dpr, width: (z - a + 1) / dpr }));
  }, canvasId);
}

/** What the test measures in the page, in CSS pixels. */
interface Layout {
  pageScrollWidth: number;
  viewportWidth: number;
  /** Per service cell: its text's line boxes (1 = on one line). */
  serviceLines: number[];
  /** The alert message: its full width and the width it is shown in. */
  alert: { scrollWidth: number; clientWidth: number; text: string } | null;
  /** The picker's right edge and its card's. */
  pickerRight: number;
  cardRight: number;
  /** The table's own sideways scroll: its content's width and the box it scrolls in. */
  table: { scrollWidth: number; clientWidth: number };
}

Deno.test({
  name: "on a phone the page does not scroll sideways, alerts read whole, names stay on a line",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await ensureBuiltWithCss();
    const collector = await startTestCollector({ rules: parseRules(RULES, "phone-rules.yaml") });
    let apps: FakeApp[] = [];
    let browser: Browser | null = null;
    try {
      apps = ["checkout-7f9c2d", "checkout-a81e04"].map((instance, i) =>
        startFakeApp(
          collector.zmqEndpoint,
          identity("checkout", instance, null, 200, 7100 + i),
          () => ({
            cpu: 20 + 5 * i,
            memMiB: 120 + 10 * i,
            // A long metric name: the picker lists it and is as wide as it.
            extra: { [LONG_METRIC]: 12 },
          }),
        )
      );
      browser = await launchBrowser();
      const w = await openDashboard(browser, `${collector.httpUrl}/`, { width: 390, height: 844 });
      const page = w.page;
      await waitState(page, "live");
      await page.waitForFunction(
        () =>
          document.querySelectorAll("#instances tr[data-id]").length === 2 &&
          document.querySelector("#alerts-active .alert .alert-message")?.textContent &&
          [...document.querySelectorAll<HTMLOptionElement>("#metric-picker option")]
            .some((o) => o.value.includes("carts")),
        undefined,
        { timeout: 20_000 },
      );
      const layout = await page.evaluate((): Layout => {
        const lines = (el: Element) => {
          const range = document.createRange();
          range.selectNodeContents(el);
          // One box per line; a cell's text broken over two lines has two.
          return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
        };
        const msg = document.querySelector<HTMLElement>("#alerts-active .alert-message");
        const wrap = document.querySelector<HTMLElement>("#instances")!.closest(".table-wrap")!;
        return {
          pageScrollWidth: document.documentElement.scrollWidth,
          viewportWidth: document.documentElement.clientWidth,
          serviceLines: [...document.querySelectorAll("#instances td.c-service")].map(lines),
          alert: msg
            ? { scrollWidth: msg.scrollWidth, clientWidth: msg.clientWidth, text: msg.innerText }
            : null,
          pickerRight: document.querySelector(".picker")!.getBoundingClientRect().right,
          cardRight: document.querySelector("#custom-card")!.getBoundingClientRect().right,
          table: { scrollWidth: wrap.scrollWidth, clientWidth: wrap.clientWidth },
        };
      });
      assert.equal(layout.pageScrollWidth, layout.viewportWidth, "the page scrolls sideways");
      assert.deepEqual(layout.serviceLines, [1, 1], "service names broken over lines");
      assert.ok(layout.alert, "no alert shown");
      assert.ok(
        layout.alert.scrollWidth <= layout.alert.clientWidth + 1,
        `alert message cut: ${JSON.stringify(layout.alert)}`,
      );
      assert.ok(
        layout.pickerRight <= layout.cardRight,
        `picker past its card: ${layout.pickerRight}`,
      );
      // The table is wider than a phone: it scrolls in its card, not the page.
      assert.ok(layout.table.scrollWidth > layout.table.clientWidth, JSON.stringify(layout.table));
      // The live charts' time labels stay apart at the 5 and 15 min windows (a minute's grid
      // line is labelled "09:48", not "09:48:00": those ran together, 7 px apart).
      for (const ms of [300_000, 900_000]) {
        await page.click(`#window button[data-ms="${ms}"]`);
        await page.waitForFunction(
          (ms) => (globalThis as unknown as ZeroapmGlobal).__zeroapm.snapshot().windowMs === ms,
          ms,
        );
        const labels = await timeLabelBoxes(page, "cpu-chart");
        assert.ok(labels.length >= 3, `time labels at ${ms} ms: ${JSON.stringify(labels)}`);
        for (let i = 1; i < labels.length; i++) {
          const gap = labels[i].x - (labels[i - 1].x + labels[i - 1].width);
          assert.ok(
            gap >= 12,
            `time labels ${gap} px apart at ${ms} ms: ${JSON.stringify(labels)}`,
          );
        }
      }
      // History: its six range buttons stay one line each ("15 min", not "15 / min").
      await page.click("#tab-history");
      await page.waitForSelector("#range .seg", { state: "visible" });
      const history = await page.evaluate(() => {
        const lines = (el: Element) => {
          const range = document.createRange();
          range.selectNodeContents(el);
          return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
        };
        return {
          ranges: [...document.querySelectorAll("#range .seg")].map(lines),
          pageScrollWidth: document.documentElement.scrollWidth,
          viewportWidth: document.documentElement.clientWidth,
        };
      });
      assert.deepEqual(history.ranges, [1, 1, 1, 1, 1, 1], "range buttons broken over lines");
      assert.equal(history.pageScrollWidth, history.viewportWidth, "history scrolls sideways");
      assertClean(w);
    } finally {
      await browser?.close();
      await stopAll(apps);
      await collector.stop();
    }
  },
});

/** The page's service panels, for `page.evaluate` callbacks (see static/debug.ts). */
type ZeroapmPanels = {
  __zeroapm: { panels(): Array<{ service: string; http: boolean; points: number }> };
};

/** A cumulative request counter: the collector derives `http.requests.per_s` from it. */
const REQUESTS_KEY = formatKey("http.requests_total", {
  method: "GET",
  route: "/cart",
  status: "2xx",
});

Deno.test({
  name: "on a phone a long service name beside a card with request stats does not widen the page",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await ensureBuiltWithCss();
    const collector = await startTestCollector();
    let apps: FakeApp[] = [];
    let browser: Browser | null = null;
    try {
      apps = [
        startFakeApp(
          collector.zmqEndpoint,
          identity("checkout", "checkout-7f9c2d", null, 200, 7200),
          (s) => ({ cpu: 20, memMiB: 120, extra: { [REQUESTS_KEY]: Math.round(s * 40) } }),
        ),
        startFakeApp(
          collector.zmqEndpoint,
          identity(
            "inventory-reconciliation-nightly-batch-worker-eu-west",
            "inv-1",
            null,
            200,
            7201,
          ),
          () => ({ cpu: 5, memMiB: 80 }),
        ),
      ];
      browser = await launchBrowser();
      const w = await openDashboard(browser, `${collector.httpUrl}/`, { width: 390, height: 844 });
      const page = w.page;
      await waitState(page, "live");
      // Both cards, the checkout one with its request stats and a few sparkline points.
      await page.waitForFunction(
        () => {
          const panels = (globalThis as unknown as ZeroapmPanels).__zeroapm.panels();
          return panels.length === 2 && panels.some((p) => p.http && p.points >= 2);
        },
        undefined,
        { timeout: 20_000 },
      );
      /** Wait for `n` more frames: the service panels redraw on each services frame. */
      const frames = async (n: number) => {
        const seen = await page.evaluate(() =>
          (globalThis as unknown as ZeroapmGlobal).__zeroapm.snapshot().frames
        );
        await page.waitForFunction(
          (want) => (globalThis as unknown as ZeroapmGlobal).__zeroapm.snapshot().frames >= want,
          seen + n,
          { timeout: 10_000 },
        );
      };
      const measure = () =>
        page.evaluate(() => ({
          pageScrollWidth: document.documentElement.scrollWidth,
          viewportWidth: document.documentElement.clientWidth,
          cards: [...document.querySelectorAll(".svc")].map((c) =>
            Math.round(c.getBoundingClientRect().right)
          ),
          sparks: [...document.querySelectorAll<HTMLCanvasElement>(".svc .spark")]
            .filter((c) => c.clientWidth > 0)
            .map((c) => ({ right: Math.round(c.getBoundingClientRect().right), px: c.width })),
        }));
      const assertFits = (layout: Awaited<ReturnType<typeof measure>>, when: string) => {
        assert.ok(
          layout.pageScrollWidth <= layout.viewportWidth,
          `${when}: the page scrolls sideways: ${JSON.stringify(layout)}`,
        );
        for (const right of [...layout.cards, ...layout.sparks.map((s) => s.right)]) {
          assert.ok(
            right <= layout.viewportWidth,
            `${when}: past the screen: ${JSON.stringify(layout)}`,
          );
        }
      };
      // Redrawn a few times: a width read back from a canvas must not feed its own size.
      await frames(3);
      assertFits(await measure(), "at 390 px");
      // Wider canvases (a desktop window, or a phone turned) must shrink again when it narrows.
      await page.setViewportSize({ width: 1400, height: 844 });
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll<HTMLCanvasElement>(".svc .spark")]
            .some((c) => c.width >= 200 * devicePixelRatio),
        undefined,
        { timeout: 10_000 },
      );
      await page.setViewportSize({ width: 390, height: 844 });
      await frames(3);
      const narrowed = await measure();
      assertFits(narrowed, "back at 390 px");
      assert.ok(narrowed.sparks.every((s) => s.px < 200), JSON.stringify(narrowed));
      assertClean(w);
    } finally {
      await browser?.close();
      await stopAll(apps);
      await collector.stop();
    }
  },
});
