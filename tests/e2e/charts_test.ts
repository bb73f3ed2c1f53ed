/// <reference lib="dom" />
/**
 * The live charts' axes in real headless Chromium, read from the canvas pixels: no time label
 * cut at the left edge, no line under the y-axis labels at the right edge, and a y axis that
 * follows what the window shows (a stopped instance's old peak does not hold it up). Also:
 * the page draws dark named colours lighter, and our named-colour table is Chromium's.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { startCollector } from "../../lib/collector/collector.ts";
import { MIN_CONTRAST, NAMED_COLORS, readableColor } from "../../lib/colors.ts";
import { connectPush } from "../../lib/transport/zmq.ts";
import { encode, METRICS } from "../../lib/protocol.ts";
import {
  ensureBuilt,
  type FakeApp,
  identity,
  launchBrowser,
  openDashboard,
  snapshot,
  startFakeApp,
  stopAll,
  waitState,
  type ZeroapmGlobal,
} from "./support.ts";

const COLLECTOR = { httpHost: "127.0.0.1", httpPort: 0, zmq: "tcp://127.0.0.1:*", log: () => {} };
const MIB = 1024 * 1024;
/** Columns at the right edge where Smoothie draws the y-axis labels ("0" is the narrowest). */
const LABEL_COLUMNS = 24;

/**
 * Per canvas: label-coloured pixels (light grey text) in the two leftmost columns of the
 * time-label band, and line pixels (red or the page's blue) in the rightmost columns.
 */
function edgePixels(page: Page, blue: [number, number, number]) {
  return page.evaluate(({ blue, labelColumns }) => {
    const out: Record<string, { textAtLeftEdge: number; lineUnderLabels: number }> = {};
    for (const id of ["cpu-chart", "mem-chart"]) {
      const c = document.getElementById(id) as HTMLCanvasElement;
      const { width, height } = c;
      const data = c.getContext("2d")!.getImageData(0, 0, width, height).data;
      const at = (x: number, y: number) =>
        data.subarray((y * width + x) * 4, (y * width + x) * 4 + 3);
      let textAtLeftEdge = 0;
      for (let y = height - 16; y < height; y++) {
        for (let x = 0; x < 2; x++) {
          const [r, g, b] = at(x, y);
          const grey = Math.max(r, g, b) - Math.min(r, g, b) < 40;
          if (grey && r + g + b > 250) textAtLeftEdge++;
        }
      }
      let lineUnderLabels = 0;
      for (let y = 0; y < height; y++) {
        for (let x = width - labelColumns; x < width; x++) {
          const [r, g, b] = at(x, y);
          const red = r > 180 && g < 80 && b < 80;
          const isBlue = Math.abs(r - blue[0]) < 40 && Math.abs(g - blue[1]) < 40 &&
            Math.abs(b - blue[2]) < 40;
          if (red || isBlue) lineUnderLabels++;
        }
      }
      out[id] = { textAtLeftEdge, lineUnderLabels };
    }
    return out;
  }, { blue, labelColumns: LABEL_COLUMNS });
}

function rgbOf(hex: string): [number, number, number] {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
}

Deno.test({
  name:
    "live charts in Chromium: axis labels uncut and clear of the lines, axis follows the window",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await ensureBuilt();
    let browser: Browser | null = null;
    try {
      browser = await launchBrowser();
      const b = browser;

      await t.step(
        "time labels are never cut at the left edge; lines stop before the y labels",
        async () => {
          const c = await startCollector(COLLECTOR);
          const apps: FakeApp[] = [
            startFakeApp(
              c.zmqEndpoint,
              identity("orders", "red-1", "red", 200, 11),
              (s) => ({ cpu: 45 + 15 * Math.sin(s), memMiB: 50 + 10 * Math.sin(s / 3) }),
            ),
            startFakeApp(
              c.zmqEndpoint,
              identity("orders", "blue-1", "blue", 200, 12),
              (s) => ({ cpu: 70 + 10 * Math.cos(s), memMiB: 70 }),
            ),
          ];
          const w = await openDashboard(b, c.httpUrl, { width: 1100, height: 800 });
          try {
            await waitState(w.page, "live");
            await w.page.click('#window button[data-ms="60000"]');
            await w.page.waitForFunction(
              () => {
                const s = (globalThis as unknown as ZeroapmGlobal).__zeroapm.snapshot();
                return s.windowMs === 60_000 && s.charts.cpu.lines.every((l) => l.points >= 10);
              },
              null,
              { timeout: 15_000 },
            );
            // Pure blue is drawn lighter, in its hue, and it is on the canvas.
            const blue = readableColor("blue");
            const snap = await snapshot(w.page);
            assert.deepEqual(
              snap.charts.cpu.lines.map((l) => l.color).sort(),
              [blue, "red"].sort(),
            );
            // At 1 min the chart moves ~9 px/s and a time label sits every 10 s: 11 s of frames
            // see every place a label can take relative to the left edge.
            const seen = { frames: 0, textAtLeftEdge: 0, lineUnderLabels: 0 };
            const until = Date.now() + 11_000;
            while (Date.now() < until) {
              for (const px of Object.values(await edgePixels(w.page, rgbOf(blue)))) {
                seen.textAtLeftEdge += px.textAtLeftEdge;
                seen.lineUnderLabels += px.lineUnderLabels;
              }
              seen.frames++;
              await new Promise((r) => setTimeout(r, 150));
            }
            assert.ok(seen.frames >= 30, `${seen.frames} frames read`);
            assert.equal(seen.textAtLeftEdge, 0, "a time label cut by the left edge");
            assert.equal(seen.lineUnderLabels, 0, "a line drawn under the y-axis labels");
            // The lines do reach the gutter's edge, so the check above is not vacuous.
            const frame = (await snapshot(w.page)).charts.cpu.frame!;
            assert.ok(frame.gutter >= LABEL_COLUMNS, `gutter ${frame.gutter} px`);
            assert.deepEqual(w.errors, []);
          } finally {
            await w.page.close();
            await stopAll(apps);
            await c.stop();
          }
        },
      );

      await t.step("a stopped instance's old peak does not hold the memory axis up", async () => {
        const c = await startCollector(COLLECTOR);
        // An instance that reported 600 MiB from 100 s to 70 s ago, then stopped (a restart
        // under a new pid leaves exactly this behind), and a live one at 200 MiB.
        const push = connectPush(c.zmqEndpoint, { lingerMs: 0 });
        const now = Date.now();
        const old = Array.from({ length: 31 }, (_, i) => ({
          seq: i + 1,
          ts: now - 100_000 + i * 1000,
          metrics: { [METRICS.cpuPercent]: 5, [METRICS.rssBytes]: 600 * MIB },
        }));
        const gone = identity("orders", "gone-1", "orange", 1000, 21);
        while (!await push.trySend(encode(gone, old, now))) {
          await new Promise((r) => setTimeout(r, 20));
        }
        const apps = [
          startFakeApp(
            c.zmqEndpoint,
            identity("orders", "live-1", "red", 200, 22),
            () => ({ cpu: 10, memMiB: 200 }),
          ),
        ];
        const w = await openDashboard(b, c.httpUrl);
        const memMax = async (what: string, ok: (max: number) => boolean) => {
          await w.page.waitForFunction(
            (max) => {
              const s = (globalThis as unknown as ZeroapmGlobal).__zeroapm.snapshot();
              return s.charts.mem.lines.some((l) => l.points >= 5) &&
                (s.charts.mem.range?.max ?? Infinity) < max;
            },
            Infinity,
            { timeout: 10_000 },
          );
          // Let the axis settle (Smoothie eases to its target), then read it twice.
          await new Promise((r) => setTimeout(r, 2500));
          for (let i = 0; i < 2; i++) {
            const max = (await snapshot(w.page)).charts.mem.range?.max ?? NaN;
            assert.ok(ok(max), `${what}: memory axis up to ${max} MiB`);
            await new Promise((r) => setTimeout(r, 1000));
          }
        };
        try {
          await waitState(w.page, "live");
          await w.page.click('#window button[data-ms="60000"]');
          await memMax("1 min", (max) => max >= 200 && max < 300);
          // The 5-minute window does show the old peak, so there the axis goes up to it...
          await w.page.click('#window button[data-ms="300000"]');
          await memMax("5 min", (max) => max >= 600);
          // ...and back at 1 minute it comes down again.
          await w.page.click('#window button[data-ms="60000"]');
          await memMax("1 min again", (max) => max >= 200 && max < 300);
          assert.deepEqual(w.errors, []);
        } finally {
          await w.page.close();
          await stopAll(apps);
          push.close();
          await c.stop();
        }
      });

      await t.step(
        "the named-colour table is Chromium's, and lifted colours reach the contrast",
        async () => {
          const page = await b.newPage();
          try {
            const chromium = await page.evaluate((names) => {
              const ctx = document.createElement("canvas").getContext("2d")!;
              return names.map((n) => {
                ctx.fillStyle = "#010203";
                ctx.fillStyle = n;
                return [n, ctx.fillStyle as string];
              });
            }, [...NAMED_COLORS.keys()]);
            assert.deepEqual(
              chromium,
              [...NAMED_COLORS].map(([n, hex]) => [n, `#${hex}`]),
            );
            assert.ok(MIN_CONTRAST >= 3);
          } finally {
            await page.close();
          }
        },
      );
    } finally {
      await browser?.close();
    }
  },
});
