/// <reference lib="dom" />
// deno-lint-ignore-file no-explicit-any -- page.evaluate callbacks read the page's debug object
/**
 * Services, custom metrics and container limits in real headless Chromium against a real
 * collector fed real ZMQ frames: two instances of "api" report request counters
 * (`http.requests_total{method,route,status}`, cumulative) and a latency histogram
 * (cumulative counts over BUCKET_COUNT buckets) at a known rate, error share and latency
 * mix; one "worker" reports no requests; one api instance restarts, one goes silent.
 * The page must show the service panel's rate, p95 and error share close to what was sent,
 * the table grouped by service with restart, gone and "% of limit" cells, the container limit
 * as a dashed line, and a picked custom metric drawn live and in history (the key URL-encoded).
 * With ZEROAPM_SCREENSHOT=1 it writes docs/services.png (1280x900).
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { connectPush } from "../../lib/transport/zmq.ts";
import {
  createEncoder,
  encode,
  type Histogram,
  type Identity,
  METRICS,
} from "../../lib/protocol.ts";
import { BUCKET_COUNT, bucketIndex } from "../../lib/histogram.ts";
import {
  assertClean,
  countPixels,
  ensureBuiltWithCss,
  launchBrowser,
  openDashboard,
  startTestCollector,
  waitForPixels,
  waitState,
} from "./support.ts";

const MIB = 1024 * 1024;
const INTERVAL = 500;
/** Per instance and second: 36 answered 2xx, 4 answered 5xx (10 %). */
const OK_PER_S = 36;
const ERR_PER_S = 4;
/** Latencies: 90 % at ~20 ms (bucket 10..25), 10 % at ~200 ms (bucket 100..250). */
const FAST_MS = 20;
const SLOW_MS = 200;
const ROUTE = { method: "GET", route: "/users/:id" };
const key = (name: string, labels: Record<string, string>) =>
  `${name}{${
    Object.entries(labels).sort(([a], [b]) => a < b ? -1 : 1).map(([k, v]) => `${k}="${v}"`).join(
      ",",
    )
  }}`;
const OK_KEY = key("http.requests_total", { ...ROUTE, status: "2xx" });
const ERR_KEY = key("http.requests_total", { ...ROUTE, status: "5xx" });
const HIST_KEY = key("http.request_duration_ms", ROUTE);
const RATE_KEY = key("http.requests.per_s", { ...ROUTE, status: "2xx" });

interface App {
  /** Stop sending; with `bye`, say goodbye in a last frame first (a clean stop). */
  stop(bye?: boolean): Promise<void>;
}

/**
 * A fake instance: one sample every `interval` ms, stamped on an exact grid from its start
 * (so counter rates are exact), with cumulative counters and histogram counts when `http`.
 */
function startApp(
  endpoint: string,
  id: Identity,
  opts: {
    http?: boolean;
    memMiB: number;
    limitMiB?: number;
    queue?: (s: number) => number;
  },
): App {
  const sender = connectPush(endpoint, { lingerMs: 0 });
  const interval = id.intervalMs ?? INTERVAL;
  const t0 = Date.now();
  const ident = { ...id, start: t0 };
  let running = true;
  let last = 0;
  const loop = (async () => {
    for (let n = 1; running; n++) {
      last = n;
      const ts = t0 + n * interval;
      const wait = ts - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (!running) break;
      const s = (n * interval) / 1000;
      const metrics: Record<string, number> = {
        [METRICS.cpuPercent]: 12 + 4 * Math.sin(s / 3),
        [METRICS.rssBytes]: Math.round((opts.memMiB + Math.sin(s / 4)) * MIB),
      };
      if (opts.limitMiB) metrics["container.mem.limit_bytes"] = opts.limitMiB * MIB;
      if (opts.queue) metrics["queue.depth"] = opts.queue(s);
      let hist: Record<string, Histogram> | undefined;
      if (opts.http) {
        metrics[OK_KEY] = Math.round(s * OK_PER_S);
        metrics[ERR_KEY] = Math.round(s * ERR_PER_S);
        const total = s * (OK_PER_S + ERR_PER_S);
        const counts = new Array(BUCKET_COUNT).fill(0);
        counts[bucketIndex(FAST_MS)] = Math.round(total * 0.9);
        counts[bucketIndex(SLOW_MS)] = Math.round(total * 0.1);
        hist = { [HIST_KEY]: { counts, sum: total * 0.9 * FAST_MS + total * 0.1 * SLOW_MS } };
      }
      const frame = encode(ident, [{ seq: n, ts, metrics, ...(hist ? { hist } : {}) }], Date.now());
      for (let tries = 0; tries < 50 && !await sender.trySend(frame); tries++) {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  })();
  return {
    /** Stop sending; with `bye`, say goodbye in a last frame first (a clean stop). */
    async stop(bye = false) {
      running = false;
      await loop;
      if (bye) {
        const frame = createEncoder(ident)(
          [{ seq: last + 1, ts: Date.now(), metrics: {} }],
          Date.now(),
          true,
        );
        for (let tries = 0; tries < 50 && !await sender.trySend(frame); tries++) {
          await new Promise((r) => setTimeout(r, 10));
        }
      }
      sender.close();
    },
  };
}

const ident = (
  service: string,
  instance: string,
  color: string,
  pid: number,
  intervalMs = INTERVAL,
) => ({
  service,
  instance,
  pid,
  host: "e2e-host",
  color,
  intervalMs,
});

const API1 = { id: "api/api-1", rgb: [0x4f, 0xc3, 0xf7] as [number, number, number] };
const WORKER = { id: "worker/worker-1", rgb: [0x81, 0xc7, 0x84] as [number, number, number] };
type Z = { __zeroapm: any };
const debug = (page: Page, fn: string): Promise<any> =>
  page.evaluate((f) => (globalThis as unknown as Z).__zeroapm[f](), fn);

function num(text: string): number {
  const m = /([\d.]+)\s*(ms|s)?/.exec(text);
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === "s" ? 1000 : 1);
}

Deno.test({
  name: "services in Chromium: panels, grouped table, restarts, limits, custom metrics",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await ensureBuiltWithCss();
    const c = await startTestCollector();
    const apps: App[] = [];
    let browser: Browser | null = null;
    try {
      apps.push(
        startApp(c.zmqEndpoint, ident("api", "api-1", "#4fc3f7", 5101), {
          http: true,
          memMiB: 64,
          limitMiB: 256,
          queue: (s) => 30 + 12 * Math.sin(s / 2),
        }),
        startApp(c.zmqEndpoint, ident("worker", "worker-1", "#81c784", 5301), {
          memMiB: 96,
          queue: (s) => 70 + 20 * Math.sin(s / 3),
        }),
      );
      // api-3 reports quickly for a moment and then stops: gone after 60 intervals (6 s).
      const api3 = startApp(c.zmqEndpoint, ident("api", "api-3", "#e57373", 5103, 100), {
        memMiB: 40,
      });
      // api-4 stops cleanly: it says goodbye, so it is stopped (not stale, never gone).
      const api4 = startApp(c.zmqEndpoint, ident("api", "api-4", "#ba68c8", 5104, 100), {
        memMiB: 30,
      });
      // api-2 starts, then restarts (same instance name, new pid and start time).
      let api2 = startApp(c.zmqEndpoint, ident("api", "api-2", "#ffb74d", 5102), {
        http: true,
        memMiB: 80,
      });
      await new Promise((r) => setTimeout(r, 1500));
      await api3.stop();
      await api4.stop(true);
      await api2.stop();
      api2 = startApp(c.zmqEndpoint, ident("api", "api-2", "#ffb74d", 5202), {
        http: true,
        memMiB: 82,
      });
      apps.push(api2);

      browser = await launchBrowser();
      const w = await openDashboard(browser, c.httpUrl, { width: 1280, height: 900 });
      const page = w.page;
      await waitState(page, "live");

      await t.step("the api panel shows request rate, p95 and error share as sent", async () => {
        const want = 2 * (OK_PER_S + ERR_PER_S);
        await page.waitForFunction(
          (want) => {
            const p = (globalThis as any).__zeroapm.panels().find((x: any) => x.service === "api");
            const rps = p ? Number(p.rps) : NaN;
            return p?.http && Math.abs(rps - want) <= 0.2 * want && p.p95 !== "–";
          },
          want,
          { timeout: 20_000 },
        );
        const panels = await debug(page, "panels");
        const api = panels.find((p: { service: string }) => p.service === "api");
        const rps = Number(api.rps);
        assert.ok(Math.abs(rps - want) <= 0.2 * want, `rate ${rps} req/s, sent ${want}`);
        const p95 = num(api.p95);
        assert.ok(p95 > 100 && p95 <= 250, `p95 ${api.p95} in the 100..250 ms bucket`);
        const p50 = num(api.p50);
        assert.ok(p50 > 10 && p50 <= 25, `p50 ${api.p50} in the 10..25 ms bucket`);
        const p99 = num(api.p99);
        assert.ok(p99 >= p95 && p99 <= 250, `p99 ${api.p99}`);
        const err = num(api.errors);
        assert.ok(Math.abs(err - 10) <= 2, `error share ${api.errors}, sent 10 %`);
        // The panel's text is what the debug hook says, from the DOM.
        const shown = await page.textContent(
          '#services .svc[data-service="api"] .stat-rps .stat-value',
        );
        assert.equal(shown, api.rps);
        const worker = panels.find((p: { service: string }) => p.service === "worker");
        assert.equal(worker.http, false, "worker reports no requests: counts only");
        assert.equal(worker.count, "1 / 1 live");
        // Usage, summed over live instances: worker alone (CPU 8..16 %, 96 ± 1 MiB); api's
        // two live ones (64 and 82 MiB), not the gone and stopped ones.
        const usage = (text: string) => {
          const m = /^CPU (\d+\.\d) % · (\d+\.\d) MiB$/.exec(text);
          assert.ok(m, `usage text "${text}"`);
          return { cpu: Number(m[1]), mib: Number(m[2]) };
        };
        const wu = usage(worker.usage);
        assert.ok(wu.cpu >= 8 && wu.cpu <= 16, `worker CPU ${worker.usage}`);
        assert.ok(Math.abs(wu.mib - 96) <= 1.5, `worker memory ${worker.usage}`);
        await page.waitForFunction(
          () => {
            const p = (globalThis as any).__zeroapm.panels().find((x: any) => x.service === "api");
            const mib = Number(/· (\d+\.\d) MiB$/.exec(p?.usage ?? "")?.[1]);
            return Math.abs(mib - (64 + 82)) <= 3;
          },
          undefined,
          { timeout: 15_000 },
        );
        const au = usage((await debug(page, "panels")).find((p: any) => p.service === "api").usage);
        assert.ok(au.cpu >= 16 && au.cpu <= 32, `api CPU ${au.cpu} %: two live instances`);
        // Read together: the usage moves every second, so an earlier reading may differ.
        const [underName, workerNow] = await page.evaluate(() => [
          document.querySelector('#services .svc[data-service="worker"] .svc-note .svc-usage')
            ?.textContent,
          (globalThis as any).__zeroapm.panels().find((x: any) => x.service === "worker").usage,
        ]);
        assert.equal(underName, workerNow, "a compact card has its usage under the name");
        assert.match(
          (await page.textContent('#services .svc[data-service="api"] .svc-head .svc-usage')) ??
            "",
          /^CPU .* MiB$/,
          "a full card has it in the head",
        );
        // Sparklines fill from the frames kept in the page.
        await page.waitForFunction(() =>
          (globalThis as any).__zeroapm.panels().every((p: any) => p.points >= 3)
        );
        assertClean(w);
      });

      await t.step(
        "the table groups rows by service; restart, gone, stopped and limit are shown",
        async () => {
          await page.waitForFunction(
            () =>
              document.querySelector('#instances tr[data-id="api/api-3"] .badge')?.textContent ===
                "gone",
            null,
            { timeout: 20_000 },
          );
          const order = await page.$$eval(
            "#instances > *",
            (nodes) =>
              nodes.map((n) =>
                n.classList.contains("group-head")
                  ? `# ${(n as HTMLElement).dataset.service} ${
                    n.querySelector(".group-count")?.textContent
                  }`
                  : (n as HTMLElement).dataset.id
              ),
          );
          assert.deepEqual(order, [
            "# api 2 / 3 live",
            "api/api-1",
            "api/api-2",
            "api/api-3",
            "api/api-4",
            "# worker 1 / 1 live",
            "worker/worker-1",
          ]);
          assert.equal(
            await page.$$eval("#instances tr", (l) => l.length),
            5,
            "one <tr> per instance",
          );
          // The goodbye: shown as text, and counted apart from gone; not missing, so not in
          // the live count's "expected" (2 live out of 3: the gone one is missing). The panel
          // counts the same way.
          assert.equal(
            await page.textContent('#services .svc[data-service="api"] .svc-count'),
            "2 / 3 live",
          );
          assert.equal(
            await page.textContent('#instances tr[data-id="api/api-4"] .badge'),
            "stopped",
          );
          assert.equal(
            await page.textContent('#instances .group-head[data-service="api"] .group-extra'),
            "1 stopped · 1 gone",
          );
          assert.ok(
            await page.$eval(
              '#instances tr[data-id="api/api-3"]',
              (tr) => tr.classList.contains("is-gone"),
            ),
            "gone row is greyed",
          );
          const notes = await page.textContent('#instances tr[data-id="api/api-2"] .c-notes');
          assert.match(notes ?? "", /^restarted 1× · \d\d:\d\d:\d\d/);
          assert.equal(
            await page.textContent('#instances tr[data-id="api/api-1"] .mem-limit'),
            "25 % of limit",
          );
          assert.equal(
            await page.textContent('#instances tr[data-id="worker/worker-1"] .mem-limit'),
            "",
          );
          assert.match(
            (await page.textContent('#instances tr[data-id="api/api-1"] .c-uptime')) ?? "",
            /^\d+ s$/,
          );
          assertClean(w);
        },
      );

      await t.step("the container limit is a dashed line in the instance's colour", async () => {
        const snap = await debug(page, "snapshot");
        assert.deepEqual(snap.memLimits, { [API1.id]: 256 * MIB });
        assert.ok(
          snap.charts.mem.range.max >= 256,
          `memory axis reaches the limit (${snap.charts.mem.range.max})`,
        );
        // The limit spans the whole width; the RSS line only the last seconds.
        await page.click('#window button[data-ms="300000"]');
        const px = await waitForPixels(page, "mem-chart", API1.rgb, 100, { tol: 20 });
        assert.ok(px.minX < px.width * 0.05, `limit line starts at the left (${px.minX})`);
        const left = await countPixels(page, "mem-chart", API1.rgb, { tol: 20, toX: 0.5 });
        assert.ok(
          left.maxY - left.minY <= 3,
          `on the left only the flat limit line (${left.minY}..${left.maxY})`,
        );
        // Dashed: along that row, coloured and uncoloured runs alternate.
        const runs = await page.evaluate(({ y, rgb }) => {
          const cv = document.getElementById("mem-chart") as HTMLCanvasElement;
          const d = cv.getContext("2d")!.getImageData(0, y, cv.width / 2, 1).data;
          let changes = 0;
          let prev = false;
          for (let i = 0; i < d.length; i += 4) {
            const on = Math.abs(d[i] - rgb[0]) < 30 && Math.abs(d[i + 1] - rgb[1]) < 30 &&
              Math.abs(d[i + 2] - rgb[2]) < 30;
            if (on !== prev) changes++;
            prev = on;
          }
          return changes;
        }, { y: left.minY, rgb: API1.rgb });
        assert.ok(runs > 20, `dashed (${runs} on/off changes)`);
      });

      await t.step("the metric picker lists custom metrics and draws the picked one", async () => {
        await page.waitForFunction(() =>
          (globalThis as any).__zeroapm.picker().some((o: any) => o.key === "queue.depth")
        );
        const options = await debug(page, "picker");
        const q = options.find((o: { key: string }) => o.key === "queue.depth");
        assert.equal(q.group, "queue.depth");
        assert.equal(q.text, "queue.depth · 2 instances");
        const rate = options.find((o: { key: string }) => o.key === RATE_KEY);
        assert.equal(rate.group, "http.requests.per_s");
        assert.equal(rate.text, "method=GET, route=/users/:id, status=2xx · 2 instances");
        // Closed, a select shows only the picked option, not its group: it names the metric.
        const shown = () =>
          page.evaluate(() =>
            document.querySelector<HTMLSelectElement>("#metric-picker")!.selectedOptions[0]
              .textContent
          );
        await page.selectOption("#metric-picker", RATE_KEY);
        assert.equal(
          await shown(),
          "http.requests.per_s · method=GET, route=/users/:id, status=2xx · 2 instances",
        );
        // ...whole: at 1280 px the closed select is as wide as its text (it was cut at 520 px),
        // and its title holds the full key.
        const fit = await page.evaluate(() => {
          const s = document.querySelector<HTMLSelectElement>("#metric-picker")!;
          const cs = getComputedStyle(s);
          const ctx = document.createElement("canvas").getContext("2d")!;
          ctx.font = cs.font;
          const text = ctx.measureText(s.selectedOptions[0].textContent ?? "").width;
          const pad = parseFloat(cs.paddingLeft) + parseFloat(cs.paddingRight);
          return { need: Math.ceil(text + pad), have: s.clientWidth, title: s.title };
        });
        assert.ok(fit.need <= fit.have, `the picked metric needs ${fit.need} px, has ${fit.have}`);
        assert.equal(fit.title, RATE_KEY);
        await page.selectOption("#metric-picker", "queue.depth");
        assert.equal(await shown(), "queue.depth · 2 instances");
        assert.equal(
          (await debug(page, "picker")).find((o: { key: string }) => o.key === RATE_KEY).text,
          "method=GET, route=/users/:id, status=2xx · 2 instances",
          "an option not picked shows its labels under its group",
        );
        await page.click('#window button[data-ms="60000"]');
        await page.waitForFunction(
          () => {
            const s = (globalThis as any).__zeroapm.snapshot();
            return s.charts.custom.lines.length === 2 &&
              s.charts.custom.lines.every((l: any) => l.points >= 5);
          },
          null,
          { timeout: 10_000 },
        );
        const snap = await debug(page, "snapshot");
        assert.deepEqual(snap.charts.custom.lines.map((l: { id: string }) => l.id).sort(), [
          API1.id,
          WORKER.id,
        ]);
        assert.equal(snap.metric, "queue.depth");
        await waitForPixels(page, "custom-chart", WORKER.rgb, 30, { tol: 20 });
        await waitForPixels(page, "custom-chart", API1.rgb, 30, { tol: 20 });
        assert.match(await page.evaluate(() => location.hash), /metric=queue.depth/);
        assertClean(w);
      });

      await t.step("history draws the picked metric; a labelled key is URL-encoded", async () => {
        await page.click("#tab-history");
        await page.waitForFunction(
          () => {
            const h = (globalThis as any).__zeroapm.history();
            return h.metric === "queue.depth" && h.custom.series.some((s: any) => s.points > 0);
          },
          null,
          { timeout: 15_000 },
        );
        let h = await debug(page, "history");
        assert.match(h.lastUrl, /metric=queue\.depth/);
        assert.equal(h.mem.limits[API1.id], 256, "history memory chart has the limit (MiB)");
        // Tens of seconds of data: in the last 15 minutes a line at the right edge (in the
        // default hour it may be a pixel or two wide, as many as seconds went by before the load).
        await page.click('#range button[data-range="15m"]');
        await page.waitForFunction(
          () => {
            const h = (globalThis as any).__zeroapm.history();
            return h.range === "15m" && !h.loading && h.to - h.from < 20 * 60_000 &&
              h.custom.series.some((s: any) => s.points > 0);
          },
          null,
          { timeout: 15_000 },
        );
        await waitForPixels(page, "hist-custom-canvas", WORKER.rgb, 5, { tol: 20, fromX: 0.8 });
        await page.selectOption("#hist-metric-picker", RATE_KEY);
        await page.waitForFunction(
          (k) => {
            const h = (globalThis as any).__zeroapm.history();
            return h.metric === k && h.custom.series.some((s: any) => s.points > 0);
          },
          RATE_KEY,
          { timeout: 15_000 },
        );
        h = await debug(page, "history");
        const asked = new URL(h.lastUrl, c.httpUrl).searchParams.getAll("metric");
        assert.ok(asked.includes(RATE_KEY), `asked for ${RATE_KEY}: ${h.lastUrl}`);
        assert.ok(!h.lastUrl.includes('"'), "the key is URL-encoded");
        assert.equal(h.custom.unit, "/s");
        assert.equal(await page.inputValue("#metric-picker"), RATE_KEY, "both pickers agree");
        // The link carries the metric: a new page opens with it.
        const link = await page.evaluate(() => location.href);
        const w2 = await openDashboard(browser!, link, { width: 1280, height: 900 });
        try {
          await w2.page.waitForFunction(
            (k) => {
              const h = (globalThis as any).__zeroapm.history();
              return h.metric === k && h.custom.series.some((s: any) => s.points > 0);
            },
            RATE_KEY,
            { timeout: 15_000 },
          );
          assertClean(w2);
        } finally {
          await w2.page.close();
        }
        assertClean(w);
      });

      if (Deno.env.get("ZEROAPM_SCREENSHOT") === "1") {
        await t.step("screenshot", async () => {
          await page.click("#tab-live");
          await page.selectOption("#metric-picker", "queue.depth");
          await page.click('#window button[data-ms="60000"]');
          await new Promise((r) => setTimeout(r, 3000));
          await page.screenshot({
            path: new URL("../../docs/services.png", import.meta.url).pathname,
          });
        });
      }
      await t.step("on a phone a card's latency line reads whole: p50 and p99", async () => {
        await page.click("#tab-live");
        await page.setViewportSize({ width: 390, height: 844 });
        try {
          const sub = '#services .svc[data-service="api"] .stat-latency .stat-sub';
          await page.waitForFunction(
            (sel) => /p99 \S/.test(document.querySelector(sel)?.textContent ?? ""),
            sub,
          );
          const box = await page.$eval(sub, (e) => ({
            text: e.textContent,
            scroll: e.scrollWidth,
            client: e.clientWidth,
          }));
          assert.ok(box.scroll <= box.client, `cut at 390 px: ${JSON.stringify(box)}`);
        } finally {
          await page.setViewportSize({ width: 1280, height: 900 });
        }
      });
      await t.step(
        "with no live instance, a card's request figures are marked as the last heard",
        async () => {
          const stats = '#services .svc[data-service="api"] .svc-stats';
          assert.equal(await page.getAttribute(stats, "data-old"), "false");
          await Promise.all([apps[0].stop(), apps[2].stop()]); // api-1 and api-2, no goodbye
          await page.waitForFunction(
            () =>
              /^0 \//.test(
                document.querySelector('#services .svc[data-service="api"] .svc-count')
                  ?.textContent ?? "",
              ),
            undefined,
            { timeout: 15_000 },
          );
          assert.equal(await page.getAttribute(stats, "data-old"), "true");
          assert.match((await page.getAttribute(stats, "title")) ?? "", /^No live instance/);
        },
      );
      await page.close();
    } finally {
      await browser?.close();
      await Promise.allSettled(apps.map((a) => a.stop()));
      await c.stop();
    }
  },
});
