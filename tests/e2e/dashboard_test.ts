/// <reference lib="dom" />
/**
 * The live dashboard in real headless Chromium against a real collector fed with real ZMQ
 * frames: colours and lines per instance (pixels), a late page drawing history at once,
 * hostile names shown as text, no 0..100 clamp, and the connection state through a collector
 * restart (the header and the service cards call an instance stale alike while it is down). With ZEROAPM_SCREENSHOT=1 it also writes docs/dashboard.png (1280x800).
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { startCollector } from "../../lib/collector/collector.ts";
import { PALETTE, readableColor } from "../../lib/colors.ts";
import {
  assertClean,
  countPixels,
  ensureBuilt,
  type FakeApp,
  freePort,
  identity,
  launchBrowser,
  openDashboard,
  snapshot,
  startFakeApp,
  stopAll,
  waitForPixels,
  waitState,
  type WatchedPage,
  type ZeroapmGlobal,
} from "./support.ts";
import { waitFor } from "../support/live.ts";

const HISTORY_S = 30;
const quiet = () => {};
const COLLECTOR = { httpHost: "127.0.0.1", httpPort: 0, zmq: "tcp://127.0.0.1:*", log: quiet };

/** Rows of the instance table as text. */
function tableRows(
  w: WatchedPage,
): Promise<Array<{ id: string; service: string; instance: string; status: string }>> {
  return w.page.$$eval("#instances tr", (trs) =>
    trs.map((tr) => ({
      id: (tr as HTMLElement).dataset.id ?? "",
      service: tr.querySelector(".c-service")?.textContent ?? "",
      instance: tr.querySelector(".c-instance .mono")?.textContent ?? "",
      status: tr.querySelector(".badge")?.textContent ?? "",
    })));
}

Deno.test({
  name: "dashboard in Chromium: colours, history, hostile names, no clamp, reconnect",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await ensureBuilt();
    const cleanups: Array<() => Promise<unknown>> = [];
    let browser: Browser | null = null;
    try {
      // History scenario first: it must report for HISTORY_S real seconds before its page
      // opens, so it runs while the other steps do.
      const historyStarted = Date.now();
      const hist = await startCollector(COLLECTOR);
      cleanups.push(() => hist.stop());
      const histApps: FakeApp[] = [
        startFakeApp(
          hist.zmqEndpoint,
          identity("customers", "customers-7f9c", "red", 200, 31412),
          (s) => ({ cpu: 7 + 3 * Math.sin(s / 2.3) + Math.random(), memMiB: 46 + Math.sin(s / 5) }),
        ),
        startFakeApp(
          hist.zmqEndpoint,
          identity("bookings", "bookings-2b41", "blue", 200, 31420),
          (s) => ({ cpu: 24 + 9 * Math.sin(s / 3.1) + 2 * Math.random(), memMiB: 62 + 1.1 * s }),
        ),
        startFakeApp(
          hist.zmqEndpoint,
          identity("email", "email-c03e", "green", 200, 31433),
          (s) => ({ cpu: 41 + 14 * Math.sin(s / 1.7) + 3 * Math.random(), memMiB: 78 + 3.2 * s }),
        ),
      ];
      cleanups.push(() => stopAll(histApps));

      browser = await launchBrowser();
      const b = browser;

      await t.step(
        "three instances get rows and lines in their colours; same colour is two lines",
        async () => {
          const c = await startCollector(COLLECTOR);
          const apps = [
            startFakeApp(
              c.zmqEndpoint,
              identity("customers", "c-1", "red", 100, 101),
              () => ({ cpu: 20, memMiB: 40 }),
            ),
            startFakeApp(
              c.zmqEndpoint,
              identity("bookings", "b-1", "blue", 100, 102),
              () => ({ cpu: 50, memMiB: 70 }),
            ),
            startFakeApp(
              c.zmqEndpoint,
              identity("email", "e-1", "green", 100, 103),
              () => ({ cpu: 80, memMiB: 100 }),
            ),
            startFakeApp(
              c.zmqEndpoint,
              identity("customers", "c-2", "red", 100, 104),
              () => ({ cpu: 35, memMiB: 55 }),
            ),
          ];
          const w = await openDashboard(b, c.httpUrl);
          try {
            await waitState(w.page, "live");
            await w.page.waitForFunction(
              () => {
                const s = (globalThis as unknown as ZeroapmGlobal).__zeroapm.snapshot();
                return s.charts.cpu.lines.length === 4 &&
                  s.charts.cpu.lines.every((l) => l.points >= 5) &&
                  document.querySelectorAll("#instances tr").length === 4;
              },
              null,
              { timeout: 15_000 },
            );

            const rows = await tableRows(w);
            assert.deepEqual(
              rows.map((r) => `${r.service}|${r.instance}`),
              ["bookings|b-1", "customers|c-1", "customers|c-2", "email|e-1"],
            );
            // The header shows the collector's queueing delay at arrival (the `ingest` frame).
            await w.page.waitForSelector("#queue-delay:not([hidden])", { timeout: 5_000 });
            assert.match(
              (await w.page.textContent("#queue-delay")) ?? "",
              /^ingest delay p99 \d+(\.\d)? (ms|s)$/,
            );
            const snap = await snapshot(w.page);
            for (const chart of ["cpu", "mem"] as const) {
              const byColor = (col: string) =>
                snap.charts[chart].lines.filter((l) => l.color === col);
              assert.equal(byColor("red").length, 2, `${chart}: two red lines`);
              assert.notEqual(byColor("red")[0].id, byColor("red")[1].id);
              // Blue and green are too dark for the page as they are: drawn lighter.
              assert.equal(byColor(readableColor("blue")).length, 1);
              assert.equal(byColor(readableColor("green")).length, 1);
            }
            // Real pixels: each colour is drawn on both canvases (1-minute window: 100 ms/px).
            await w.page.click('#window button[data-ms="60000"]');
            for (const canvas of ["cpu-chart", "mem-chart"]) {
              for (
                const rgb of ["#ff0000", readableColor("blue"), readableColor("green")].map((h) =>
                  [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)) as [number, number, number]
                )
              ) {
                await waitForPixels(w.page, canvas, rgb, 30);
              }
              // The two red lines (cpu 20 and 35 / mem 40 and 55 MiB) sit at two heights.
              const red = await countPixels(w.page, canvas, [255, 0, 0], { fromX: 0.8, toX: 1 });
              assert.ok(
                red.maxY - red.minY > 10,
                `${canvas}: two separate red lines (${red.minY}..${red.maxY})`,
              );
            }
            assertClean(w);
          } finally {
            await w.page.close();
            await stopAll(apps);
            await c.stop();
          }
        },
      );

      await t.step("hostile names and colours are inert text", async () => {
        const c = await startCollector(COLLECTOR);
        const apps = [
          startFakeApp(
            c.zmqEndpoint,
            identity("<img src=x onerror=alert(1)>", "__proto__", "__proto__", 100),
            () => ({ cpu: 12, memMiB: 30 }),
          ),
          startFakeApp(
            c.zmqEndpoint,
            identity("constructor", "constructor", "red;background:url(x)", 100),
            () => ({ cpu: 18, memMiB: 33 }),
          ),
        ];
        const w = await openDashboard(b, c.httpUrl);
        try {
          await waitState(w.page, "live");
          await w.page.waitForFunction(
            () => document.querySelectorAll("#instances tr").length === 2,
            null,
            {
              timeout: 15_000,
            },
          );
          const rows = await tableRows(w);
          assert.deepEqual(
            rows.map((r) => `${r.service}|${r.instance}`).sort(),
            ["<img src=x onerror=alert(1)>|__proto__", "constructor|constructor"].sort(),
          );
          assert.equal(await w.page.$$eval("img", (l) => l.length), 0, "no img element anywhere");
          const swatches = await w.page.$$eval(
            "#instances .swatch",
            (l) => l.map((s) => getComputedStyle(s).backgroundColor),
          );
          const palette = PALETTE.map((h) =>
            `rgb(${parseInt(h.slice(1, 3), 16)}, ${parseInt(h.slice(3, 5), 16)}, ${
              parseInt(h.slice(5, 7), 16)
            })`
          );
          for (const s of swatches) {
            assert.ok(palette.includes(s), `swatch ${s} is a palette colour`);
          }
          const notes = await w.page.$$eval(
            "#instances .note-color",
            (l) => l.map((n) => n.textContent),
          );
          assert.ok(notes.includes("asked colour: red;background:url(x)"), JSON.stringify(notes));
          assert.ok(notes.includes("asked colour: __proto__"), JSON.stringify(notes));
          // Lines exist for both, in the same palette colours.
          const snap = await snapshot(w.page);
          assert.equal(snap.charts.cpu.lines.length, 2);
          for (const l of snap.charts.cpu.lines) {
            assert.ok(PALETTE.includes(l.color), l.color);
          }
          assertClean(w);
        } finally {
          await w.page.close();
          await stopAll(apps);
          await c.stop();
        }
      });

      await t.step(
        "a skewed app clock is shown, and its line is neither shifted nor hidden; loss is shown",
        async () => {
          const c = await startCollector(COLLECTOR);
          const apps = [
            startFakeApp(
              c.zmqEndpoint,
              identity("late", "behind-2min", "red", 100),
              () => ({ cpu: 30, memMiB: 50 }),
              {
                skewMs: -120_000,
                seqStep: 2,
              },
            ),
            startFakeApp(
              c.zmqEndpoint,
              identity("early", "ahead-1h", "blue", 100),
              () => ({ cpu: 60, memMiB: 80 }),
              {
                skewMs: 3_600_000,
              },
            ),
          ];
          const w = await openDashboard(b, c.httpUrl);
          try {
            await waitState(w.page, "live");
            await w.page.waitForFunction(
              () =>
                document.querySelectorAll("#instances .note-skew").length === 2 &&
                document.querySelectorAll("#instances .note-lost").length === 1,
              null,
              { timeout: 15_000 },
            );
            const notes = await w.page.$$eval(
              "#instances tr",
              (trs) =>
                trs.map((tr) =>
                  [...tr.querySelectorAll(".note")].map((n) => n.textContent).join(", ")
                ),
            );
            assert.equal(notes.length, 2);
            assert.equal(notes[0], "clock 1.0 h ahead");
            assert.match(notes[1], /^\d+ lost, clock 2\.0 min behind$/);
            const snap = await snapshot(w.page);
            for (const line of snap.charts.cpu.lines) {
              assert.ok(
                Math.abs(snap.collectorNow - line.newest) < 2_000,
                `${line.id} newest point is now`,
              );
            }
            // Both lines are visible at the right edge, where "now" is drawn.
            await w.page.click('#window button[data-ms="60000"]');
            await waitForPixels(w.page, "cpu-chart", [255, 0, 0], 10, { fromX: 0.9 });
            const blue = [1, 3, 5].map((i) => parseInt(readableColor("blue").slice(i, i + 2), 16));
            await waitForPixels(w.page, "cpu-chart", blue as [number, number, number], 10, {
              fromX: 0.9,
            });
            assertClean(w);
          } finally {
            await w.page.close();
            await stopAll(apps);
            await c.stop();
          }
        },
      );

      await t.step("CPU above 100 % and memory above 100 MiB are not clipped", async () => {
        const c = await startCollector(COLLECTOR);
        const apps = [
          startFakeApp(
            c.zmqEndpoint,
            identity("cruncher", "x-1", "red", 100),
            () => ({ cpu: 250, memMiB: 300 }),
          ),
        ];
        const w = await openDashboard(b, c.httpUrl);
        try {
          await waitState(w.page, "live");
          await w.page.waitForFunction(
            () => {
              const s = (globalThis as unknown as ZeroapmGlobal).__zeroapm.snapshot();
              return (s.charts.cpu.range?.max ?? 0) >= 250 && (s.charts.mem.range?.max ?? 0) >= 300;
            },
            null,
            { timeout: 15_000 },
          );
          const snap = await snapshot(w.page);
          const cpuMax = snap.charts.cpu.range?.max ?? 0;
          const memMax = snap.charts.mem.range?.max ?? 0;
          assert.ok(cpuMax >= 250, `cpu axis max ${cpuMax}`);
          assert.ok(memMax >= 300, `mem axis max ${memMax}`);
          assert.equal(snap.charts.cpu.lines[0].max, 250);
          assert.equal(snap.charts.mem.lines[0].max, 300);
          // The lines are drawn inside the plot, below its top edge, once the axis has
          // settled (Smoothie animates its scale): real pixels of the red line.
          await w.page.click('#window button[data-ms="60000"]');
          for (const canvas of ["cpu-chart", "mem-chart"]) {
            const deadline = Date.now() + 10_000;
            let px = await waitForPixels(w.page, canvas, [255, 0, 0], 20, { fromX: 0.8 });
            while (px.minY <= px.height * 0.08 && Date.now() < deadline) {
              await new Promise((r) => setTimeout(r, 100));
              px = await countPixels(w.page, canvas, [255, 0, 0], { fromX: 0.8 });
            }
            assert.ok(
              px.minY > px.height * 0.08,
              `${canvas}: line at y=${px.minY} of ${px.height}`,
            );
          }
          assertClean(w);
        } finally {
          await w.page.close();
          await stopAll(apps);
          await c.stop();
        }
      });

      await t.step(
        "status goes live, reconnecting when the collector stops, live again on restart",
        async () => {
          const port = freePort();
          let c = await startCollector({ ...COLLECTOR, httpPort: port });
          let stopped = false;
          const before = startFakeApp(
            c.zmqEndpoint,
            identity("before", "stop", "red", 100),
            () => ({ cpu: 5, memMiB: 20 }),
          );
          const w = await openDashboard(b, c.httpUrl);
          const card = '#services .svc[data-service="before"] .svc-count';
          try {
            await waitState(w.page, "live");
            assert.equal(await w.page.textContent("#conn-text"), "Live");
            await w.page.waitForFunction(
              (sel) => document.querySelector(sel)?.textContent === "1 / 1 live",
              card,
              { timeout: 10_000 },
            );
            const delayShown = () => document.getElementById("queue-delay")?.hidden === false;
            await w.page.waitForFunction(delayShown, undefined, { timeout: 10_000 });
            await c.stop();
            stopped = true;
            await waitState(w.page, "reconnecting");
            assert.match((await w.page.textContent("#conn-text")) ?? "", /^Reconnecting/);
            // The collector's ingest delay was its word about the last minute: gone with it.
            assert.equal(await w.page.isHidden("#queue-delay"), true);
            // No frame comes to say so, but the page sees the instance go stale: the header
            // and the service card agree (the card went on saying "1 / 1 live").
            await w.page.waitForFunction(
              () => document.getElementById("summary-stale")?.textContent === "1 stale",
              undefined,
              { timeout: 10_000 },
            );
            await w.page.waitForFunction(
              (sel) => document.querySelector(sel)?.textContent === "0 / 1 live",
              card,
              { timeout: 2_000 },
            );
            assert.equal(await w.page.textContent("#summary-live"), "0 live");
            assert.equal(await w.page.getAttribute(card, "data-all"), "false");
            c = await startCollector({ ...COLLECTOR, httpPort: port });
            stopped = false;
            const app = startFakeApp(
              c.zmqEndpoint,
              identity("after", "restart", "blue", 100),
              () => ({ cpu: 5, memMiB: 20 }),
            );
            try {
              await waitState(w.page, "live", 20_000);
              assert.equal(await w.page.textContent("#conn-text"), "Live");
              await w.page.waitForFunction(delayShown, undefined, { timeout: 10_000 });
              // The new collector's data reaches the page over the new socket.
              await w.page.waitForSelector('#instances tr[data-id="after/restart"]', {
                timeout: 10_000,
              });
            } finally {
              await app.stop();
            }
            assert.deepEqual(w.errors, []);
          } finally {
            await before.stop();
            await w.page.close();
            if (!stopped) await c.stop();
          }
        },
      );

      await t.step(
        `a page opened after ${HISTORY_S} s of reporting draws the earlier data at once`,
        async () => {
          const wait = historyStarted + HISTORY_S * 1000 - Date.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait)); // this step is about elapsed time
          const opened = Date.now();
          const w = await openDashboard(b, hist.httpUrl);
          try {
            await waitState(w.page, "live");
            // "At once": the hello alone must hold ~30 s of points; wait only for its arrival.
            await w.page.waitForFunction(
              () => {
                const s = (globalThis as unknown as ZeroapmGlobal).__zeroapm.snapshot();
                return s.charts.cpu.lines.length === 3 && s.charts.mem.lines.length === 3;
              },
              null,
              { timeout: 5_000 },
            );
            assert.ok(Date.now() - opened < 5_000, "hello drew quickly");
            const snap = await snapshot(w.page);
            for (const chart of ["cpu", "mem"] as const) {
              for (const line of snap.charts[chart].lines) {
                const span = line.newest - line.oldest;
                assert.ok(span >= (HISTORY_S - 3) * 1000, `${chart} ${line.id}: span ${span} ms`);
                assert.ok(
                  line.points >= HISTORY_S * 3,
                  `${chart} ${line.id}: ${line.points} points`,
                );
              }
            }
            // Pixels on the left part of the drawn data: the oldest ~20 % of the history.
            const cpuLines = snap.charts.cpu.lines;
            const oldest = Math.min(...cpuLines.map((l) => l.oldest));
            const width = await w.page.$eval(
              "#cpu-chart",
              (c) => (c as HTMLCanvasElement).clientWidth,
            );
            const colours = ["#ff0000", readableColor("blue"), readableColor("green")].map((h) =>
              [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)) as [number, number, number]
            );
            for (const chart of ["cpu", "mem"] as const) {
              // Where the oldest 20 % is drawn now, as shares of the canvas width, both ends from
              // one frame (the frame knows the gutter kept for the y labels at the right). The
              // chart scrolls on, so each look takes the window afresh.
              const oldestPart = async () => {
                const f = (await snapshot(w.page)).charts[chart].frame!;
                const x = (time: number) => 1 - (f.right - time) / f.millisPerPixel / f.width;
                return { fromX: Math.max(0, x(oldest)), toX: x(oldest + HISTORY_S * 200) };
              };
              const first = await oldestPart();
              assert.ok(first.fromX < 0.92, `history starts left of the last 8 % (${first.fromX})`);
              const counts = await waitFor(
                async () => {
                  const part = await oldestPart();
                  const n = await Promise.all(
                    colours.map(async (rgb) =>
                      (await countPixels(w.page, `${chart}-chart`, rgb, part)).count
                    ),
                  );
                  return n.every((c) => c >= 5) && n;
                },
                `${chart}: each line's colour in the oldest 20 % of the history (${width}px)`,
                3000,
              );
              assert.equal(counts.length, 3);
            }
            assertClean(w);

            if (Deno.env.get("ZEROAPM_SCREENSHOT") === "1") {
              await w.page.click('#window button[data-ms="60000"]');
              await w.page.waitForFunction(() => {
                const s = (globalThis as unknown as ZeroapmGlobal).__zeroapm.snapshot();
                return s.windowMs === 60_000;
              });
              await new Promise((r) => setTimeout(r, 2500)); // let the y-axis scale animation settle
              await Deno.mkdir(new URL("../../docs/", import.meta.url), { recursive: true });
              await w.page.screenshot({
                path: new URL("../../docs/dashboard.png", import.meta.url).pathname,
              });
            }
          } finally {
            await w.page.close();
          }
        },
      );
    } finally {
      await browser?.close();
      for (const c of cleanups.reverse()) await c().catch(() => {});
    }
  },
});
