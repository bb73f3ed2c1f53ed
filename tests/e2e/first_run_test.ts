/// <reference lib="dom" />
/**
 * The first minute of a collector on its own port, in real headless Chromium: the empty
 * dashboard's "Start one:" command names that port (`--collector`), and that very command,
 * run as the page shows it, puts an app on the page; the page also names the OTLP endpoint an
 * OpenTelemetry SDK exports to. Before, the hint said
 * `deno run -A backend_app.ts --color red` whatever the port, and the app it started reported
 * to 5555, where nobody listened.
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import {
  assertClean,
  ensureBuiltWithCss,
  launchBrowser,
  openDashboard,
  startTestCollector,
  waitState,
} from "./support.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test({
  name: "the empty page's start command names the collector's port, and works as shown",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await ensureBuiltWithCss();
    const collector = await startTestCollector({ otlp: "127.0.0.1:0" });
    let browser: Browser | null = null;
    let app: Deno.ChildProcess | null = null;
    try {
      browser = await launchBrowser();
      const w = await openDashboard(browser, `${collector.httpUrl}/`);
      const page = w.page;
      await waitState(page, "live");
      const expected =
        `deno run -A backend_app.ts --color red --collector ${collector.zmqEndpoint}`;
      await page.waitForFunction(
        (text) => document.getElementById("empty-command")?.textContent === text,
        expected,
        { timeout: 10_000 },
      );
      assert.ok(await page.isVisible("#empty-new"));
      // And where an OpenTelemetry SDK exports, as the setting it reads.
      assert.ok(await page.isVisible("#empty-otlp"));
      assert.equal(
        await page.textContent("#empty-otlp-setting"),
        `OTEL_EXPORTER_OTLP_ENDPOINT=${collector.otlpUrl}`,
      );
      // Run it as shown: the words after `deno`, from the repository's root.
      const [deno, ...args] = expected.split(" ");
      assert.equal(deno, "deno");
      app = new Deno.Command(Deno.execPath(), {
        args,
        cwd: ROOT,
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      await page.waitForSelector("#instances tr[data-id^='backend/']", { timeout: 20_000 });
      assert.equal(await page.isVisible("#empty-new"), false);
      assertClean(w);
    } finally {
      if (app) {
        app.kill("SIGTERM");
        await app.status;
      }
      await browser?.close();
      await collector.stop();
    }
  },
});
