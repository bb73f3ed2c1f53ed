/// <reference lib="dom" />
/**
 * A leaking instance's notes in the instances table on a 1024 px laptop, in real headless
 * Chromium against a real collector fed real ZMQ frames (two minutes of growing memory, then
 * a heap profile): the badge reads "leaking 55.5 MiB/min" on one line and "grows in
 * cacheReadings (backend_app.ts:65), +52 MiB/min" on at most three, and the table still fits
 * the card. Before, the notes column was held at its 150 px minimum while the instance column
 * took the spare width: the badge broke into "leaking 55.5 / MiB/min", the site into five
 * lines ("(backend_app.ts: / 65)"), and each leaking row was 130-170 px tall. The alert says
 * where it grows once: its one site, holding all the growth, is not listed again under it.
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import type { Identity } from "../../lib/protocol.ts";
import { encodeHeapProfile } from "../../lib/protocol_profile.ts";
import { connectPush } from "../../lib/transport/zmq.ts";
import { waitFor } from "../support/live.ts";
import {
  assertClean,
  ensureBuiltWithCss,
  launchBrowser,
  openDashboard,
  sendBacklog,
  startTestCollector,
  waitState,
} from "./support.ts";

const APP: Identity = {
  service: "backend",
  instance: "vm:4188",
  pid: 4188,
  host: "vm",
  color: "green",
  intervalMs: 1000,
};

Deno.test({
  name: "on a 1024 px laptop a leak's badge reads on one line and its site on at most three",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await ensureBuiltWithCss();
    const c = await startTestCollector();
    let browser: Browser | undefined;
    let backlog: { close(): void } | undefined;
    try {
      // Two minutes of the demo's green leak (~55 MiB/min), then its heap profile.
      const t0 = Date.now() - 120_000;
      backlog = await sendBacklog(
        c.zmqEndpoint,
        APP,
        Array.from({ length: 120 }, (_, i) => ({ ts: t0 + i * 1000, cpu: 8, memMiB: 60 + i })),
      );
      await waitFor(async () => {
        const list = await (await fetch(`${c.httpUrl}/api/instances`)).json();
        return list.some((v: { instance: string }) => v.instance === APP.instance);
      }, "the instance");
      const push = connectPush(c.zmqEndpoint, { lingerMs: 500 });
      const profile = encodeHeapProfile({
        service: APP.service,
        instance: APP.instance,
        pid: APP.pid,
        at: Date.now(),
        spanMs: 15_000,
        samplingInterval: 32768,
        heapUsedBytes: 200e6,
        totalBytes: 18e6,
        totalGrowth: 13.7e6,
        sites: [{
          fn: "cacheReadings",
          url: "file:///srv/app/backend_app.ts",
          line: 65,
          col: 23,
          bytes: 18e6,
          samples: 20,
          growth: 13.7e6,
        }],
      });
      while (!await push.trySend(profile)) await new Promise((r) => setTimeout(r, 50));
      push.close();

      browser = await launchBrowser();
      const w = await openDashboard(browser, c.httpUrl, { width: 1024, height: 800 });
      const page = w.page;
      await waitState(page, "live");
      await page.waitForFunction(
        () => document.querySelector("#instances .note-grows")?.textContent?.includes("grows in"),
        undefined,
        { timeout: 30_000 },
      );
      const layout = await page.evaluate(() => {
        const lines = (el: Element | null) => {
          if (!el) return 0;
          const range = document.createRange();
          range.selectNodeContents(el);
          return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
        };
        const badge = document.querySelector("#instances .note-leak");
        const grows = document.querySelector("#instances .note-grows");
        const wrap = document.querySelector("#instances")!.closest(".table-wrap")!;
        return {
          badge: { text: badge?.textContent, lines: lines(badge) },
          grows: { text: grows?.textContent, lines: lines(grows) },
          table: { scrollWidth: wrap.scrollWidth, clientWidth: wrap.clientWidth },
        };
      });
      assert.match(layout.badge.text ?? "", /^leaking [\d.]+ MiB\/min$/);
      assert.equal(layout.badge.lines, 1, JSON.stringify(layout));
      assert.match(
        layout.grows.text ?? "",
        /^grows in cacheReadings \(backend_app\.ts:65\), \+\d+ MiB\/min$/,
      );
      assert.ok(layout.grows.lines <= 3, JSON.stringify(layout));
      assert.ok(
        layout.table.scrollWidth <= layout.table.clientWidth,
        `the table scrolls sideways at 1024 px: ${JSON.stringify(layout.table)}`,
      );
      // The alert: the sentence once; the one site holding all the growth is not listed again
      // under it ("cacheReadings (backend_app.ts:65) · 100 % · +52 MiB/min").
      const alert = await page.evaluate(() => ({
        grows: [...document.querySelectorAll("#alerts-active .alert-grows")]
          .filter((e) => !(e as HTMLElement).hidden).map((e) => e.textContent),
        listed: [...document.querySelectorAll("#alerts-active .alert-sites")]
          .filter((e) => (e as HTMLElement).offsetHeight > 0).map((e) => e.textContent),
      }));
      assert.equal(alert.grows.length, 1, JSON.stringify(alert));
      assert.deepEqual(alert.listed, [], "the one site listed again under its sentence");
      assertClean(w);
      await page.close();
    } finally {
      backlog?.close();
      await browser?.close();
      await c.stop();
    }
  },
});
