/// <reference lib="dom" />
/**
 * The picked metric's backfill in real headless Chromium against a real collector (real ZMQ
 * frames): a page opened with a metric picked draws that metric's last minutes for every
 * instance that reports it, including one whose `latest` in the hello was cut before the
 * picked name (a view carries at most 24 names there; an app with many series had its line
 * start at page load).
 */
import type { Browser } from "playwright-core";
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

/** 30 custom series; the picked one is the last, past the hello's cut of `latest`. */
const NAMES = Array.from({ length: 30 }, (_, i) => `work.m${String(i).padStart(2, "0")}`);
const PICKED = NAMES[NAMES.length - 1];

interface Debug {
  __zeroapm: {
    snapshot(): { charts: { custom: { lines: Array<{ id: string; oldest: number | null }> } } };
  };
}

Deno.test({
  name: "a page opened with a metric picked backfills it for every instance that reports it",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await ensureBuiltWithCss();
    const collector = await startTestCollector({});
    let apps: FakeApp[] = [];
    let browser: Browser | null = null;
    try {
      const extra = Object.fromEntries(NAMES.map((n, i) => [n, i]));
      apps = ["w-1", "w-2"].map((name, i) =>
        startFakeApp(
          collector.zmqEndpoint,
          identity("jobs", name, null, 200, 6200 + i),
          () => ({ cpu: 5, memMiB: 60, extra }),
        )
      );
      // Some seconds of the picked metric on the collector before the page opens.
      const started = Date.now();
      for (;;) {
        const list = await (await fetch(`${collector.httpUrl}/api/instances`)).json();
        if (list.length === 2 && Date.now() - started >= 3000) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const opened = Date.now();
      browser = await launchBrowser();
      const w = await openDashboard(browser, `${collector.httpUrl}/#metric=${PICKED}`);
      await waitState(w.page, "live");
      // Each line starts before the page opened: its past came from the history API.
      await w.page.waitForFunction(
        (before) => {
          const lines = (globalThis as unknown as Debug).__zeroapm.snapshot().charts.custom.lines;
          return lines.length === 2 &&
            lines.every((l) => l.oldest !== null && l.oldest <= before);
        },
        opened - 2000,
        { timeout: 15_000 },
      );
      assertClean(w);
      await w.page.close();
    } finally {
      await browser?.close();
      await stopAll(apps);
      await collector.stop().catch(() => {});
    }
  },
});
