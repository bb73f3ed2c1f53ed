/// <reference lib="dom" />
/**
 * The history view in real headless Chromium against a real collector with a data directory
 * (durable SQLite history), fed real ZMQ frames: two apps deliver a 50-minute backlog (batch
 * frames stamped `sent` = now, as an agent does after an outage) and then keep reporting.
 * The page draws both as uPlot lines with min..max bands (debug hook and canvas pixels),
 * zooms by a mouse drag (a new, narrower `/api/series` request; the x scale follows; the URL
 * keeps the range), opens the same range from the link, hides an instance from the table in
 * both views, and keeps that through a collector restart. With ZEROAPM_SCREENSHOT=1 it
 * writes docs/history.png (1280x800).
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { startCollector } from "../../lib/collector/collector.ts";
import {
  assertClean,
  type BacklogSample,
  countPixels,
  ensureBuiltWithCss,
  type FakeApp,
  freePort,
  identity,
  launchBrowser,
  openDashboard,
  sendBacklog,
  startFakeApp,
  stopAll,
  waitForPixels,
  waitState,
  type WatchedPage,
} from "./support.ts";

const quiet = () => {};
const MIN = 60_000;
const BACKLOG_MS = 50 * MIN;
const STEP_MS = 2000;

/** The two apps: ids, colours (as RGB for pixel checks) and their values over time. */
const A = {
  service: "checkout",
  instance: "web-1",
  id: "checkout/web-1",
  color: "#4fc3f7",
  rgb: [0x4f, 0xc3, 0xf7] as [number, number, number],
  values: (t: number) => ({
    cpu: 22 + 9 * Math.sin(t / (7 * MIN)) + 6 * Math.random(),
    memMiB: 140 + 25 * Math.sin(t / (11 * MIN)) + 4 * Math.random(),
  }),
};
const B = {
  service: "billing",
  instance: "worker-2",
  id: "billing/worker-2",
  color: "#ffb74d",
  rgb: [0xff, 0xb7, 0x4d] as [number, number, number],
  values: (t: number) => ({
    // Bursts above 100 % (two cores) for part of every 20 minutes: no 0..100 clamp.
    cpu: 58 + 22 * Math.sin(t / (5 * MIN)) + 12 * Math.random() +
      ((t / MIN) % 20 < 4 ? 45 : 0),
    memMiB: 310 + ((t / MIN) % 25) * 6 + 8 * Math.random(),
  }),
};

/** `window.__zeroapm.history()` as the page reports it (see static/history.ts). */
interface HistoryInfo {
  active: boolean;
  range: string;
  abs: { from: number; to: number } | null;
  from: number | null;
  to: number | null;
  tier: string | null;
  bucketMs: number | null;
  loading: boolean;
  error: string | null;
  lastUrl: string | null;
  queries: number;
  answers: number;
  cpu: ChartInfo;
  mem: ChartInfo;
}
interface ChartInfo {
  series: Array<{ id: string; color: string; points: number }>;
  xMin: number | null;
  xMax: number | null;
  yMax: number | null;
}
type Debug = {
  __zeroapm: {
    history(): HistoryInfo;
    snapshot(): {
      state: string;
      hidden: string[];
      charts: Record<"cpu" | "mem", { lines: Array<{ id: string; hidden: boolean }> }>;
    };
  };
};

function info(page: Page): Promise<HistoryInfo> {
  return page.evaluate(() => (globalThis as unknown as Debug).__zeroapm.history());
}

/** Poll the page's history state until it is not loading and `test` holds for it. */
async function waitHistory(
  page: Page,
  test: (h: HistoryInfo) => boolean,
  timeout = 15_000,
): Promise<HistoryInfo> {
  const deadline = Date.now() + timeout;
  while (true) {
    const h = await info(page);
    if (!h.loading && test(h)) return h;
    if (Date.now() > deadline) {
      throw new Error(`history state not reached: ${test}\n${JSON.stringify(h, null, 1)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function params(url: string | null): URLSearchParams {
  assert.ok(url, "a request was made");
  return new URL(url, "http://x").searchParams;
}

/** Samples every STEP_MS over the last BACKLOG_MS, on the (unskewed) app clock. */
function backlog(values: (t: number) => { cpu: number; memMiB: number }): BacklogSample[] {
  const end = Date.now();
  const out: BacklogSample[] = [];
  for (let t = end - BACKLOG_MS; t < end; t += STEP_MS) out.push({ ts: t, ...values(t) });
  return out;
}

Deno.test({
  name: "history view in Chromium: uPlot lines and bands, zoom, link, toggles, restart",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await ensureBuiltWithCss();
    const dataDir = await Deno.makeTempDir({ prefix: "zeroapm-history-e2e-" });
    const httpPort = freePort();
    const options = {
      httpHost: "127.0.0.1",
      httpPort,
      zmq: "tcp://127.0.0.1:*",
      dataDir,
      log: quiet,
    };
    let collector = await startCollector(options);
    let running = true;
    const zmq = collector.zmqEndpoint; // reused on restart, so the apps reconnect
    const url = collector.httpUrl;
    let apps: FakeApp[] = [];
    let browser: Browser | null = null;
    const pages: Page[] = [];
    try {
      // The backlog: 50 minutes of samples delivered now, then the apps keep reporting live
      // (a restarted process: new pid, new sequence).
      for (const app of [A, B]) {
        const sent = await sendBacklog(
          zmq,
          identity(app.service, app.instance, app.color, STEP_MS, 7100),
          backlog(app.values),
        );
        // Wait until the collector answers the history API with the whole backlog.
        const deadline = Date.now() + 15_000;
        while (true) {
          const res = await fetch(
            `${url}/api/series?instance=${encodeURIComponent(app.id)}&metric=cpu.percent` +
              `&from=${Date.now() - 60 * MIN}&to=${Date.now()}&points=60`,
          );
          const body = await res.json();
          const pts = body.series?.[0]?.points ?? [];
          if (pts.length >= 48) break;
          assert.ok(Date.now() < deadline, `backlog of ${app.id} stored: ${pts.length} buckets`);
          await new Promise((r) => setTimeout(r, 100));
        }
        sent.close();
      }
      apps = [A, B].map((app) =>
        startFakeApp(
          zmq,
          identity(app.service, app.instance, app.color, 500, 7200),
          () => app.values(Date.now()),
        )
      );

      browser = await launchBrowser();
      const b = browser;
      let w!: WatchedPage;
      let zoomed!: HistoryInfo;

      await t.step("a history link draws both instances as average lines with bands", async () => {
        w = await openDashboard(b, `${url}/#view=history&range=1h`);
        pages.push(w.page);
        await waitState(w.page, "live");
        const h = await waitHistory(
          w.page,
          (h) =>
            h.answers >= 1 && h.cpu.series.length === 2 && h.mem.series.length === 2 &&
            h.cpu.series.every((s) => s.points > 100),
        );
        assert.equal(h.active, true);
        assert.equal(h.range, "1h");
        assert.equal(h.abs, null);
        assert.equal(h.error, null);
        assert.deepEqual(h.cpu.series.map((s) => [s.id, s.color]).sort(), [
          [B.id, B.color],
          [A.id, A.color],
        ]);
        // The request: both instances, both metrics, one hour, about one point per pixel.
        const q = params(h.lastUrl);
        assert.deepEqual(q.getAll("instance").sort(), [B.id, A.id]);
        assert.deepEqual(q.getAll("metric").sort(), ["cpu.percent", "mem.rss_bytes"]);
        assert.equal(Number(q.get("to")) - Number(q.get("from")), 60 * MIN);
        const width = await w.page.$eval("#hist-cpu .u-over", (e) => e.clientWidth);
        assert.ok(Math.abs(Number(q.get("points")) - width) <= 2, `points ≈ ${width} px`);
        // x is the collector's hour; y is not clamped at 100 % and memory is in MiB.
        assert.equal(h.cpu.xMax! - h.cpu.xMin!, 60 * MIN);
        assert.ok(h.cpu.yMax! > 100, `cpu y max ${h.cpu.yMax}`);
        assert.ok(h.mem.yMax! >= 300 && h.mem.yMax! < 1000, `mem y max ${h.mem.yMax} MiB`);
        // 50 of the 60 minutes hold data: about 5/6 of the buckets asked for.
        const asked = Number(q.get("points"));
        for (const s of [...h.cpu.series, ...h.mem.series]) {
          assert.ok(s.points >= 0.75 * asked * (50 / 60), `${s.id}: ${s.points} of ${asked}`);
        }
        assert.equal(h.tier, "raw");
        assert.match(
          (await w.page.textContent("#history-tier")) ?? "",
          /^tier raw · \d+ s buckets$/,
        );
        assert.match((await w.page.textContent("#history-range")) ?? "", /^Last 1 h · /);
        // Real pixels: each colour's line on both charts, and its translucent band.
        for (const canvas of ["hist-cpu-canvas", "hist-mem-canvas"]) {
          for (const app of [A, B]) {
            const px = await waitForPixels(w.page, canvas, app.rgb, 150, { tol: 24 });
            assert.ok(px.maxX - px.minX > px.width * 0.6, `${canvas} ${app.id} spans the chart`);
          }
          // (Memory moves less within a bucket than CPU does: a thinner band.)
          const band = await countPixels(w.page, canvas, blend(A.rgb, 0.2), { tol: 8 });
          const min = canvas === "hist-cpu-canvas" ? 100 : 10;
          assert.ok(band.count > min, `${canvas}: band of ${A.id} (${band.count} px)`);
        }
        assert.equal(await w.page.isVisible("#live-view"), false, "live charts are hidden");
        assertClean(w);
      });

      await t.step("dragging across a chart zooms in and asks for the narrower range", async () => {
        const before = await info(w.page);
        const box = (await w.page.locator("#hist-cpu .u-over").boundingBox())!;
        const y = box.y + box.height / 2;
        await w.page.mouse.move(box.x + box.width * 0.4, y);
        await w.page.mouse.down();
        await w.page.mouse.move(box.x + box.width * 0.6, y, { steps: 12 });
        await w.page.mouse.up();
        zoomed = await waitHistory(
          w.page,
          (h) => h.abs !== null && h.answers > before.answers && h.from === h.abs.from,
        );
        const q = params(zoomed.lastUrl);
        const from = Number(q.get("from"));
        const to = Number(q.get("to"));
        assert.deepEqual({ from, to }, zoomed.abs);
        // About the middle fifth of the hour.
        assert.ok(Math.abs((to - from) - 12 * MIN) < 1.5 * MIN, `zoomed span ${to - from}`);
        assert.ok(from > before.cpu.xMin! && to < before.cpu.xMax!, "inside the old range");
        assert.equal(zoomed.cpu.xMin, from);
        assert.equal(zoomed.cpu.xMax, to);
        assert.equal(zoomed.mem.xMin, from, "both charts follow");
        assert.ok(zoomed.bucketMs! < before.bucketMs!, "finer buckets");
        for (const s of zoomed.cpu.series) assert.ok(s.points > 100, `${s.id}: ${s.points}`);
        const hash = new URLSearchParams(new URL(w.page.url()).hash.slice(1));
        assert.equal(hash.get("view"), "history");
        assert.equal(hash.get("range"), "1h");
        assert.equal(Number(hash.get("from")), from);
        assert.equal(Number(hash.get("to")), to);
        assert.match(
          (await w.page.textContent("#history-range")) ?? "",
          /^Zoomed · .*\(1\d(\.\d)? min\)$/,
        );
        assert.equal(await w.page.isVisible("#history-reset"), true);
        for (const app of [A, B]) await waitForPixels(w.page, "hist-cpu-canvas", app.rgb, 100);
        assertClean(w);
      });

      await t.step("the zoomed link opens the same range", async () => {
        const link = w.page.url();
        const w2 = await openDashboard(b, link);
        pages.push(w2.page);
        const h = await waitHistory(w2.page, (h) => h.answers >= 1 && h.cpu.series.length === 2);
        assert.deepEqual(h.abs, zoomed.abs);
        assert.equal(h.from, zoomed.abs!.from);
        assert.equal(h.to, zoomed.abs!.to);
        assert.equal(h.cpu.xMin, zoomed.cpu.xMin);
        assert.equal(h.cpu.xMax, zoomed.cpu.xMax);
        const q = params(h.lastUrl);
        assert.equal(Number(q.get("from")), zoomed.abs!.from);
        assert.equal(Number(q.get("to")), zoomed.abs!.to);
        assert.equal(
          await w2.page.textContent("#history-range"),
          await w.page.textContent("#history-range"),
        );
        // And the reload of the same tab too.
        await w2.page.reload();
        const r = await waitHistory(w2.page, (h) => h.answers >= 1 && h.cpu.series.length === 2);
        assert.deepEqual(r.abs, zoomed.abs);
        assert.equal(r.cpu.xMin, zoomed.cpu.xMin);
        // Reset goes back to the preset.
        await w2.page.click("#history-reset");
        const back = await waitHistory(w2.page, (h) => h.abs === null && h.answers >= 2);
        assert.equal(back.cpu.xMax! - back.cpu.xMin!, 60 * MIN);
        assert.equal(new URL(w2.page.url()).hash, "#view=history&range=1h");
        assertClean(w2);
        await w2.page.close();
      });

      await t.step("a table row hides its instance in history and in live charts", async () => {
        const answers = (await info(w.page)).answers;
        await w.page.click(`#instances tr[data-id="${B.id}"] .c-service`);
        const h = await waitHistory(
          w.page,
          (h) => h.cpu.series.length === 1 && h.mem.series.length === 1,
        );
        assert.equal(h.answers, answers, "hiding needs no new request");
        assert.deepEqual(h.cpu.series.map((s) => s.id), [A.id]);
        const hash = new URLSearchParams(new URL(w.page.url()).hash.slice(1));
        assert.deepEqual(hash.getAll("hide"), [B.id]);
        assert.equal(
          await w.page.isChecked(`#instances tr[data-id="${B.id}"] input`),
          false,
          "its checkbox is cleared",
        );
        for (const canvas of ["hist-cpu-canvas", "hist-mem-canvas"]) {
          await waitForPixels(w.page, canvas, A.rgb, 100);
          const px = await countPixels(w.page, canvas, B.rgb, { tol: 24 });
          assert.ok(px.count < 5, `${canvas}: ${px.count} px of the hidden colour`);
        }
        // Live view: same page, no reload.
        await w.page.click("#tab-live");
        assert.equal(await w.page.isVisible("#history-view"), false);
        assert.equal(new URLSearchParams(new URL(w.page.url()).hash.slice(1)).get("view"), "live");
        await w.page.click('#window button[data-ms="60000"]');
        const snap = await w.page.evaluate(() =>
          (globalThis as unknown as Debug).__zeroapm.snapshot()
        );
        assert.deepEqual(snap.hidden, [B.id]);
        for (const chart of ["cpu", "mem"] as const) {
          const lines = Object.fromEntries(snap.charts[chart].lines.map((l) => [l.id, l.hidden]));
          assert.deepEqual(lines, { [A.id]: false, [B.id]: true });
        }
        for (const canvas of ["cpu-chart", "mem-chart"]) {
          await waitForPixels(w.page, canvas, A.rgb, 30, { tol: 24 });
          const px = await countPixels(w.page, canvas, B.rgb, { tol: 24 });
          assert.ok(px.count < 5, `${canvas}: ${px.count} px of the hidden colour`);
        }
        assertClean(w);
      });

      await t.step(
        "after a collector restart: same hidden instance, history still there",
        async () => {
          await collector.stop();
          running = false;
          await waitState(w.page, "reconnecting");
          collector = await startCollector({ ...options, zmq });
          running = true;
          await waitState(w.page, "live", 20_000);
          const snap = await w.page.evaluate(() =>
            (globalThis as unknown as Debug).__zeroapm.snapshot()
          );
          assert.deepEqual(snap.hidden, [B.id]);
          const line = snap.charts.cpu.lines.find((l) => l.id === B.id);
          assert.equal(line?.hidden, true, "the rebuilt live line stays hidden");
          assert.equal(await w.page.isChecked(`#instances tr[data-id="${B.id}"] input`), false);
          // History from before the restart comes from the data directory.
          const before = (await info(w.page)).answers;
          await w.page.click("#tab-history");
          const h = await waitHistory(
            w.page,
            (h) => h.answers > before && h.cpu.series.length === 1,
          );
          assert.deepEqual(h.abs, zoomed.abs);
          assert.equal(h.cpu.series[0].id, A.id);
          assert.ok(h.cpu.series[0].points > 100, `${h.cpu.series[0].points} points after restart`);
          // Showing it again draws it from the same answer.
          await w.page.click(`#instances tr[data-id="${B.id}"] input`);
          await waitHistory(w.page, (h) => h.cpu.series.length === 2);
          await waitForPixels(w.page, "hist-cpu-canvas", B.rgb, 100, { tol: 24 });
          assert.equal(new URLSearchParams(new URL(w.page.url()).hash.slice(1)).has("hide"), false);
          assertClean(w);
        },
      );

      await t.step("an API error is shown as text", async () => {
        const w3 = await openDashboard(b, `${url}/#view=history&range=15m`);
        pages.push(w3.page);
        await waitHistory(w3.page, (h) => h.answers >= 1);
        await w3.page.route("**/api/series?**", (route) =>
          route.fulfill({
            status: 400,
            contentType: "application/json",
            body: JSON.stringify({ error: "points: must be 1..5000, got <b>0</b>" }),
          }));
        await w3.page.click('#range button[data-range="6h"]');
        await waitHistory(w3.page, (h) => h.error !== null);
        assert.equal(
          await w3.page.textContent("#history-error"),
          "History unavailable: points: must be 1..5000, got <b>0</b>",
        );
        assert.equal(
          await w3.page.$$eval("#history-error b", (l) => l.length),
          0,
          "text, not HTML",
        );
        assert.deepEqual(w3.errors, []);
        await w3.page.close();
      });

      if (Deno.env.get("ZEROAPM_SCREENSHOT") === "1") {
        await t.step("screenshot of the history view (docs/history.png)", async () => {
          const s = await openDashboard(b, `${url}/#view=history&range=1h`, {
            width: 1280,
            height: 800,
          });
          pages.push(s.page);
          await waitHistory(s.page, (h) => h.answers >= 1 && h.cpu.series.length === 2);
          const box = (await s.page.locator("#hist-cpu .u-over").boundingBox())!;
          await s.page.mouse.move(box.x + box.width * 0.72, box.y + box.height * 0.5);
          await s.page.waitForFunction(() =>
            document.querySelector("#hist-cpu-legend .chip-time")?.textContent !== "latest"
          );
          await Deno.mkdir(new URL("../../docs/", import.meta.url), { recursive: true });
          await s.page.screenshot({
            path: new URL("../../docs/history.png", import.meta.url).pathname,
          });
          assertClean(s);
        });
      }
    } finally {
      for (const p of pages) await p.close().catch(() => {});
      await browser?.close();
      await stopAll(apps);
      if (running) await collector.stop().catch(() => {});
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});

/** The colour `rgb` at opacity `a` over the card background (#131821). */
function blend(rgb: [number, number, number], a: number): [number, number, number] {
  const bg = [0x13, 0x18, 0x21];
  return rgb.map((c, i) => Math.round(a * c + (1 - a) * bg[i])) as [number, number, number];
}
