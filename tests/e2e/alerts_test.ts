/// <reference lib="dom" />
// deno-lint-ignore-file no-explicit-any -- page.evaluate callbacks read the page's debug object
/**
 * Alerts and leaks in real headless Chromium against a real collector (rules from a YAML
 * text via `parseRules`) fed real ZMQ frames. `orders-1` leaks: its RSS grows 0.5 MiB/s with
 * a little noise, two minutes of it delivered at once as a backlog (batch frames stamped
 * `sent` = now, samples placed in the past) so the detector has its 90 s of data at once,
 * then live at 10 Hz, under a 512 MiB container limit. `orders-2` is flat. `worker-1`
 * reports `queue.depth`, which the test pushes over 10 and back.
 *
 * The page must show the leak alert firing for orders-1 and nothing for orders-2, in the
 * panel, the header count and the table ("leaking … MiB/min, limit in …"); draw the fitted
 * trend line dashed in orders-1's colour on the live and history memory charts (debug hook
 * and canvas pixels along the line); and show the threshold alert firing, then resolved in
 * the recent list. With ZEROAPM_SCREENSHOT=1 it writes docs/alerts.png (1280x900).
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { parseRules } from "../../lib/alerts/rules.ts";
import { connectPush } from "../../lib/transport/zmq.ts";
import { encode, type Identity, METRICS } from "../../lib/protocol.ts";
import {
  assertClean,
  ensureBuiltWithCss,
  launchBrowser,
  openDashboard,
  startTestCollector,
  waitState,
} from "./support.ts";

const MIB = 1024 * 1024;
const STEP_MS = 100;
const BACKFILL_MS = 120_000;

const RULES = `
rules:
  - name: memory-leak
    kind: leak
    growth: 50MB/h
    within: 6h
    for: 2s
  - name: queue-deep
    kind: threshold
    metric: queue.depth
    op: ">"
    value: 10
    for: 1s
`;

/** A seeded PRNG (mulberry32): the same noise every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LEAKY = {
  id: "orders/orders-1",
  ident: ident("orders", "orders-1", "#4fc3f7", 6101),
  rgb: [0x4f, 0xc3, 0xf7] as [number, number, number],
};
const FLAT = { id: "orders/orders-2", ident: ident("orders", "orders-2", "#81c784", 6102) };
const WORKER = { id: "worker/worker-1", ident: ident("worker", "worker-1", "#ba68c8", 6201) };

function ident(service: string, instance: string, color: string, pid: number): Identity {
  return { service, instance, pid, host: "e2e-host", color, intervalMs: STEP_MS };
}

interface App {
  stop(): Promise<void>;
}

/**
 * A fake instance: `backfillMs` of samples every STEP_MS delivered at once (batches of at
 * most 1 000, `sent` = now), then one sample every STEP_MS, live; `metrics(t)` gives the
 * values at app time `t`.
 */
async function startApp(
  endpoint: string,
  id: Identity,
  metrics: (t: number) => Record<string, number>,
  backfillMs = 0,
): Promise<App> {
  const sender = connectPush(endpoint, { lingerMs: 0 });
  const t0 = Date.now();
  let seq = 0;
  const send = async (samples: Array<{ seq: number; ts: number; metrics: any }>) => {
    const frame = encode(id, samples, Date.now());
    for (let tries = 0; !await sender.trySend(frame); tries++) {
      if (tries > 500) throw new Error(`${id.instance}: the collector did not take a frame`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const back: Array<{ seq: number; ts: number; metrics: any }> = [];
  for (let t = t0 - backfillMs; t < t0; t += STEP_MS) {
    back.push({ seq: ++seq, ts: t, metrics: metrics(t) });
  }
  for (let i = 0; i < back.length; i += 1000) await send(back.slice(i, i + 1000));
  let running = true;
  const loop = (async () => {
    for (let n = 1; running; n++) {
      const ts = t0 + n * STEP_MS;
      const wait = ts - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (!running) break;
      await send([{ seq: ++seq, ts, metrics: metrics(ts) }]).catch(() => {});
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      sender.close();
    },
  };
}

type Z = { __zeroapm: any };
const debug = (page: Page, fn: string): Promise<any> =>
  page.evaluate((f) => (globalThis as unknown as Z).__zeroapm[f](), fn);

/**
 * Sample `n` points along the segment (x0,y0)-(x1,y1) (device pixels) of a canvas: how many
 * have the colour `rgb` within a pixel of the line, and how many do not.
 */
function alongLine(
  page: Page,
  canvasId: string,
  seg: { x0: number; y0: number; x1: number; y1: number },
  rgb: [number, number, number],
  n = 120,
): Promise<{ on: number; off: number; samples: number }> {
  return page.evaluate(({ canvasId, seg, rgb, n }) => {
    const c = document.getElementById(canvasId) as HTMLCanvasElement;
    const ctx = c.getContext("2d")!;
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    const near = (x: number, y: number) => {
      for (let dy = -1; dy <= 1; dy++) {
        const yy = Math.round(y) + dy;
        const xx = Math.round(x);
        if (xx < 0 || yy < 0 || xx >= c.width || yy >= c.height) continue;
        const i = (yy * c.width + xx) * 4;
        if (
          Math.abs(d[i] - rgb[0]) < 40 && Math.abs(d[i + 1] - rgb[1]) < 40 &&
          Math.abs(d[i + 2] - rgb[2]) < 40
        ) return true;
      }
      return false;
    };
    let on = 0;
    let off = 0;
    let samples = 0;
    for (let k = 0; k <= n; k++) {
      const x = seg.x0 + (seg.x1 - seg.x0) * (k / n);
      const y = seg.y0 + (seg.y1 - seg.y0) * (k / n);
      if (x < 2 || y < 2 || x > c.width - 2 || y > c.height - 2) continue;
      samples++;
      if (near(x, y)) on++;
      else off++;
    }
    return { on, off, samples };
  }, { canvasId, seg, rgb, n });
}

Deno.test({
  name: "alerts in Chromium: leak alert, table badge, trend lines, threshold fire and resolve",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await ensureBuiltWithCss();
    const c = await startTestCollector({ rules: parseRules(RULES, "e2e-rules.yaml") });
    const apps: App[] = [];
    let browser: Browser | null = null;
    let queueHigh = false;
    try {
      const started = Date.now();
      const noise = rng(7);
      const noise2 = rng(11);
      const t0 = Date.now() - BACKFILL_MS;
      apps.push(
        await startApp(
          c.zmqEndpoint,
          LEAKY.ident,
          (t) => ({
            [METRICS.cpuPercent]: 22 + 5 * Math.sin(t / 9000) + 1.5 * noise(),
            // Growth under a shallow GC sawtooth (15 s period, 5 MiB deep) and noise.
            [METRICS.rssBytes]: Math.round(
              (160 + 0.5 * (t - t0) / 1000 + 5 * (((t - t0) % 15_000) / 15_000) +
                1.5 * (noise() - 0.5)) * MIB,
            ),
            "container.mem.limit_bytes": 512 * MIB,
          }),
          BACKFILL_MS,
        ),
        await startApp(
          c.zmqEndpoint,
          FLAT.ident,
          (t) => ({
            [METRICS.cpuPercent]: 9 + 3 * Math.sin(t / 7000) + 1.5 * noise2(),
            [METRICS.rssBytes]: Math.round((132 + 1.5 * (noise2() - 0.5)) * MIB),
          }),
          BACKFILL_MS,
        ),
        await startApp(c.zmqEndpoint, WORKER.ident, (t) => ({
          [METRICS.cpuPercent]: 31 + 5 * Math.sin(t / 2000),
          [METRICS.rssBytes]: Math.round((88 + 0.5 * Math.sin(t / 3000)) * MIB),
          "queue.depth": queueHigh ? 24 + 3 * Math.sin(t / 700) : 3 + Math.sin(t / 900),
        })),
      );

      browser = await launchBrowser();
      const w = await openDashboard(browser, c.httpUrl, { width: 1280, height: 900 });
      const page = w.page;
      await waitState(page, "live");

      await t.step("before any alert the panel says so", async () => {
        // One read of the page: the leak alert may arrive at any moment now, and must not
        // land between the checks.
        const s = await page.evaluate(() => {
          const a = (globalThis as unknown as Z).__zeroapm.alerts();
          const empty = document.getElementById("alerts-empty")!;
          return {
            active: a.active.length,
            hidden: a.badge.hidden,
            text: empty.textContent,
            shown: empty.getClientRects().length > 0 &&
              getComputedStyle(empty).visibility !== "hidden",
          };
        });
        if (s.active === 0) {
          assert.equal(s.text, "No alerts");
          assert.equal(s.shown, true);
          assert.equal(s.hidden, true, "no header count without alerts");
        }
      });

      await t.step("the leak alert fires for the growing instance only", async () => {
        await page.waitForFunction(
          (id) =>
            (globalThis as any).__zeroapm.alerts().active.some((a: any) =>
              a.instance === id && a.rule === "memory-leak" && a.state === "firing"
            ),
          LEAKY.id,
          { timeout: 30_000 },
        );
        const firedAfter = Date.now() - started;
        const a = await debug(page, "alerts");
        assert.ok(
          !a.active.some((x: any) => x.instance === FLAT.id),
          `no alert for the flat instance: ${JSON.stringify(a.active)}`,
        );
        const row = a.active.find((x: any) => x.instance === LEAKY.id);
        assert.match(row.text, /^firing/);
        assert.match(row.text, /memory-leak/);
        assert.match(
          row.text,
          /memory-leakorders-1leaking/,
          "a pod named after its service, alone",
        );
        assert.match(row.text, /leaking [\d.]+ MiB\/min, limit in /);
        assert.match(row.text, /firing since \d\d:\d\d:\d\d/);
        // The DOM shows it, firing first.
        const first = await page.$eval(
          "#alerts-active li",
          (li) => [(li as HTMLElement).dataset.instance, (li as HTMLElement).dataset.state],
        );
        assert.deepEqual(first, [LEAKY.id, "firing"]);
        assert.equal(await page.isVisible("#alerts-empty"), false);
        // The header count, in red.
        assert.equal(a.badge.hidden, false);
        assert.equal(a.badge.level, "firing");
        assert.match(a.badge.text, /^\d+ alerts?$/);
        // The estimate behind it: about 0.5 MiB/s = 1887 MB/h, confident.
        const e = a.leaks[LEAKY.id];
        assert.ok(Math.abs(e.mbPerHour - 1887) < 250, `rate ${e.mbPerHour} MB/h`);
        assert.ok(e.confidence >= 0.95, `confidence ${e.confidence}`);
        assert.equal(a.badges[FLAT.id], undefined, "no badge for the flat instance");
        console.log(`  leak firing ${(firedAfter / 1000).toFixed(1)} s after the apps started`);
        assertClean(w);
      });

      await t.step("the table row says leaking, in red; the flat row does not", async () => {
        const sel = `#instances tr[data-id="${LEAKY.id}"] .note-leak`;
        await page.waitForSelector(sel, { timeout: 5000 });
        const text = await page.textContent(sel);
        assert.match(text ?? "", /^leaking [\d.]+ MiB\/min, limit in (~\d+ h|\d+ min)$/);
        assert.ok(
          await page.$eval(sel, (n) => n.classList.contains("is-firing")),
          "firing badge",
        );
        const color = await page.$eval(sel, (n) => getComputedStyle(n).color);
        const [r, g, b] = (color.match(/\d+/g) ?? []).map(Number);
        assert.ok(r > 200 && r > g && r > b, `reddish text (${color})`);
        assert.equal(
          await page.$$eval(`#instances tr[data-id="${FLAT.id}"] .note-leak`, (l) => l.length),
          0,
        );
      });

      await t.step("the trend line is drawn dashed on the live memory chart", async () => {
        await page.waitForFunction(
          (id) => (globalThis as any).__zeroapm.snapshot().memTrends.some((t: any) => t.id === id),
          LEAKY.id,
          { timeout: 5000 },
        );
        const snap = await debug(page, "snapshot");
        const trends = snap.memTrends;
        assert.deepEqual(trends.map((t: any) => t.id), [LEAKY.id], "only the leaking one");
        const tr = trends[0];
        assert.equal(tr.color, LEAKY.ident.color);
        const a = await debug(page, "alerts");
        const e = a.leaks[LEAKY.id];
        // The drawn line is the estimate's fitted line, extended to now at its slope.
        assert.equal(tr.from[0], e.trend[0][0]);
        assert.equal(tr.from[1], e.trend[0][1]);
        const slope = e.mbPerHour * 1e6 / 3_600_000;
        const want = e.trend[1][1] + slope * (tr.to[0] - e.trend[1][0]);
        assert.ok(Math.abs(tr.to[1] - want) < 1, `extended end ${tr.to[1]} vs ${want}`);
        assert.ok(tr.to[0] >= e.trend[1][0], "reaches now");
        // The lines end a gutter before the canvas' right edge (the y labels sit there).
        const { width, gutter } = snap.charts.mem.frame;
        assert.ok(
          Math.abs(tr.x1 - (width - gutter)) < 40,
          `ends at the data's right edge (${tr.x1} of ${width} - ${gutter})`,
        );
        assert.ok(tr.y1 < tr.y0, "heads up");
        // Pixels: along the line, dashes in orders-1's colour alternate with the casing.
        const dpr = await page.evaluate(() => devicePixelRatio);
        const s = await alongLine(page, "mem-chart", {
          x0: tr.x0 * dpr,
          y0: tr.y0 * dpr,
          x1: tr.x1 * dpr,
          y1: tr.y1 * dpr,
        }, LEAKY.rgb);
        assert.ok(s.samples > 60, `line inside the canvas (${s.samples} samples)`);
        assert.ok(s.on / s.samples > 0.35, `dashes in the colour (${s.on}/${s.samples})`);
        assert.ok(s.off / s.samples > 0.1, `gaps between dashes (${s.off}/${s.samples})`);
        // The flat one has no trend line, and the limit line is there too.
        assert.deepEqual(snap.memLimits, { [LEAKY.id]: 512 * MIB });
        assertClean(w);
      });

      await t.step("the trend line is drawn on the history memory chart", async () => {
        await page.click("#tab-history");
        await page.waitForFunction(
          (id) => {
            const h = (globalThis as any).__zeroapm.history();
            return !h.loading && h.mem.trends.some((t: any) => t.id === id) &&
              h.mem.series.some((s: any) => s.id === id && s.points > 10);
          },
          LEAKY.id,
          { timeout: 15_000 },
        );
        const h = await debug(page, "history");
        assert.deepEqual(h.mem.trends.map((t: any) => t.id), [LEAKY.id]);
        assert.deepEqual(h.cpu.trends, [], "memory only");
        const tr = h.mem.trends[0];
        assert.ok(tr.y1 < tr.y0, "heads up");
        // Two minutes in a 1 h range: a short line near the right edge.
        const s = await alongLine(page, "hist-mem-canvas", tr, LEAKY.rgb, 40);
        assert.ok(s.samples > 10 && s.on / s.samples > 0.3, `dashes (${s.on}/${s.samples})`);
        await page.click("#tab-live");
        assertClean(w);
      });

      await t.step("a threshold alert fires, then resolves and is listed as recent", async () => {
        queueHigh = true;
        await page.waitForFunction(
          () =>
            (globalThis as any).__zeroapm.alerts().active.some((a: any) =>
              a.rule === "queue-deep" && a.state === "firing"
            ),
          null,
          { timeout: 15_000 },
        );
        let a = await debug(page, "alerts");
        assert.equal(a.badge.text, "2 alerts");
        assert.equal(a.badge.level, "firing");
        const q = a.active.find((x: any) => x.rule === "queue-deep");
        assert.equal(q.instance, WORKER.id);
        assert.match(q.text, /queue-deepworker-1queue/);
        assert.match(q.text, /queue\.depth/);
        queueHigh = false;
        await page.waitForFunction(
          () => {
            const a = (globalThis as any).__zeroapm.alerts();
            return !a.active.some((x: any) => x.rule === "queue-deep") &&
              a.recent.some((x: any) => x.rule === "queue-deep");
          },
          null,
          { timeout: 15_000 },
        );
        a = await debug(page, "alerts");
        assert.equal(a.badge.text, "1 alert");
        const r = a.recent.find((x: any) => x.rule === "queue-deep");
        assert.equal(r.state, "resolved");
        assert.match(r.text, /resolved \d\d:\d\d:\d\d/);
        assert.match(r.text, /worker-1/);
        const shown = await page.textContent(
          `#alerts-recent li[data-rule="queue-deep"] .alert-message`,
        );
        assert.match(shown ?? "", /no longer/);
        assertClean(w);
      });

      if (Deno.env.get("ZEROAPM_SCREENSHOT") === "1") {
        await t.step("screenshot", async () => {
          queueHigh = true;
          await page.waitForFunction(
            () =>
              (globalThis as any).__zeroapm.alerts().active.some((a: any) =>
                a.rule === "queue-deep" && a.state === "firing"
              ),
            null,
            { timeout: 15_000 },
          );
          await page.click('#window button[data-ms="300000"]');
          await new Promise((r) => setTimeout(r, 2500));
          await page.screenshot({
            path: new URL("../../docs/alerts.png", import.meta.url).pathname,
          });
        });
      }
      assertClean(w);
      await page.close();
    } finally {
      await browser?.close();
      await Promise.allSettled(apps.map((a) => a.stop()));
      await c.stop();
    }
  },
});
