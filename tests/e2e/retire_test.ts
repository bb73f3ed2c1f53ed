/// <reference lib="dom" />
/**
 * Retired instances in real headless Chromium against a real collector (data directory, real
 * ZMQ frames) whose clock is injected: an instance that ended more than 15 minutes ago (a
 * container replaced by a redeploy) leaves the live table, the legends, the header and its
 * service's count, and stays in the history view; with every instance ended long ago, the
 * table says they are in History.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
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
} from "./support.ts";

const MIN = 60_000;
const NEW = { id: "shop/web-2", instance: "web-2", color: "#4fc3f7" };
const OLD = { id: "shop/web-1", instance: "web-1", color: "#ffb74d" };

interface Debug {
  __zeroapm: {
    panels(): Array<{ service: string; count: string }>;
    history(): { loading: boolean; answers: number; cpu: { series: Array<{ id: string }> } };
  };
}

async function visible(page: Page, id: string) {
  return {
    row: await page.isVisible(`#instances tr[data-id="${id}"]`),
    chip: await page.isVisible(`#cpu-legend li[data-id="${id}"]`),
  };
}

Deno.test({
  name: "an instance that ended over 15 minutes ago leaves the live view and stays in history",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await ensureBuiltWithCss();
    const dataDir = await Deno.makeTempDir({ prefix: "zeroapm-retire-e2e-" });
    /** The collector's clock runs ahead of the apps' by `shift` once the test moves it on. */
    let shift = 0;
    const collector = await startTestCollector({ dataDir, now: () => Date.now() + shift });
    let apps: FakeApp[] = [];
    let browser: Browser | null = null;
    try {
      const [fresh, old] = [NEW, OLD].map((a, i) =>
        startFakeApp(
          collector.zmqEndpoint,
          identity("shop", a.instance, a.color, 200, 6100 + i),
          () => ({ cpu: 10 + 5 * i, memMiB: 80 + 20 * i }),
        )
      );
      apps = [fresh, old];
      browser = await launchBrowser();
      const w = await openDashboard(browser, `${collector.httpUrl}/`);
      const page = w.page;
      await waitState(page, "live");
      await page.waitForFunction(
        (ids) => ids.every((id) => document.querySelector(`#instances tr[data-id="${id}"]`)),
        [NEW.id, OLD.id],
        { timeout: 15_000 },
      );
      assert.deepEqual(await visible(page, OLD.id), { row: true, chip: true });

      // web-1 is replaced: it stops reporting, and 16 minutes pass on the collector's clock.
      await old.stop();
      shift = 16 * MIN;
      await page.waitForFunction(
        (id) => !document.querySelector(`#instances tr[data-id="${id}"]`),
        OLD.id,
        { timeout: 15_000 },
      );
      assert.deepEqual(await visible(page, OLD.id), { row: false, chip: false });
      assert.deepEqual(await visible(page, NEW.id), { row: true, chip: true });
      // The header follows on its next refresh (twice a second).
      await page.waitForFunction(
        () => document.getElementById("summary-count")?.textContent === "1 instance",
        undefined,
        { timeout: 5_000 },
      );
      assert.equal(await page.isVisible("#summary-stale"), false, "no gone count either");
      await page.waitForFunction(
        () =>
          (globalThis as unknown as Debug).__zeroapm.panels().find((p) => p.service === "shop")
            ?.count === "1 / 1 live",
        undefined,
        { timeout: 15_000 },
      );
      const services = await (await fetch(`${collector.httpUrl}/api/services`)).json();
      assert.deepEqual(
        services.map((s: { service: string; live: number; instances: number }) => [
          s.service,
          s.live,
          s.instances,
        ]),
        [["shop", 1, 1]],
      );
      // When every instance has ended long ago, the table says where they went.
      await fresh.stop();
      shift = 32 * MIN;
      await page.waitForSelector("#empty-ended", { state: "visible", timeout: 15_000 });
      assert.equal(await page.isVisible("#empty-new"), false, "not 'none reported yet'");
      // History keeps them: a line each for the last hour.
      await page.click("#tab-history");
      await page.waitForFunction(
        (ids) => {
          const h = (globalThis as unknown as Debug).__zeroapm.history();
          return !h.loading && h.answers >= 1 &&
            ids.every((id) => h.cpu.series.some((s) => s.id === id));
        },
        [OLD.id, NEW.id],
        { timeout: 15_000 },
      );
      assertClean(w);
      await page.close();
    } finally {
      await browser?.close();
      await stopAll(apps);
      await collector.stop().catch(() => {});
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
