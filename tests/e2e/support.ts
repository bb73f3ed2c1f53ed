/// <reference lib="dom" />
/**
 * Helpers for the Chromium dashboard tests: a fresh build of the page when it is stale, a
 * headless Chromium, pages that record errors/dialogs/CSP violations, a real collector on
 * spare ports, and fake apps that push real protocol frames over real ZMQ to it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Browser, chromium, type Page } from "playwright-core";
import { connectPush } from "../../lib/transport/zmq.ts";
import { encode, type Identity, METRICS } from "../../lib/protocol.ts";

const ROOT = new URL("../../", import.meta.url);
const MIB = 1024 * 1024;

/** Chromium flags for a quiet, sandbox-free headless run (CI containers). */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
];

/** Path of the browser: `CHROMIUM_PATH` or Debian's chromium. */
export const CHROMIUM_PATH = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";

/** Launch headless Chromium. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

async function mtime(url: URL): Promise<number> {
  try {
    return (await Deno.stat(url)).mtime?.getTime() ?? 0;
  } catch {
    return 0;
  }
}

/** Run `deno task build` when static/dist/app.js is missing or older than its sources. */
export async function ensureBuilt(): Promise<void> {
  const out = await mtime(new URL("static/dist/app.js", ROOT));
  const sources: URL[] = [];
  for await (const f of Deno.readDir(new URL("static/", ROOT))) {
    if (f.isFile && f.name.endsWith(".ts")) sources.push(new URL(`static/${f.name}`, ROOT));
  }
  for (const f of ["lib/live/messages.ts", "lib/colors.ts", "lib/protocol.ts"]) {
    sources.push(new URL(f, ROOT));
  }
  const newest = Math.max(...await Promise.all(sources.map(mtime)));
  if (out >= newest) return;
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["task", "build"],
    cwd: ROOT,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!r.success) throw new Error("deno task build failed");
}

/** A page plus everything it did wrong. */
export interface WatchedPage {
  page: Page;
  errors: string[];
  dialogs: string[];
  cspViolations: string[];
}

/** Open `url` in a new page of `browser`, recording page errors, dialogs and CSP violations. */
export async function openDashboard(
  browser: Browser,
  url: string,
  viewport = { width: 1280, height: 800 },
): Promise<WatchedPage> {
  const page = await browser.newPage({ viewport });
  const w: WatchedPage = { page, errors: [], dialogs: [], cspViolations: [] };
  page.on("pageerror", (e) => w.errors.push(String(e)));
  page.on("dialog", (d) => {
    w.dialogs.push(d.message());
    void d.dismiss();
  });
  page.on("console", (m) => {
    if (m.type() === "error" && /Content.Security.Policy/i.test(m.text())) {
      w.cspViolations.push(m.text());
    }
  });
  await page.goto(url);
  return w;
}

/** Fail on anything the page did wrong: page errors, dialogs, CSP violations. */
export function assertClean(w: WatchedPage): void {
  assert.deepEqual(w.errors, [], "page errors");
  assert.deepEqual(w.dialogs, [], "dialogs");
  assert.deepEqual(w.cspViolations, [], "CSP violations");
}

/** Wait until the page's connection state is `state`. */
export async function waitState(page: Page, state: string, timeout = 15_000): Promise<void> {
  await page.waitForFunction(
    (s) => document.getElementById("conn")?.dataset.state === s,
    state,
    { timeout },
  );
}

/** One chart line as `window.__zeroapm.snapshot()` reports it (see static/charts.ts). */
export interface LineInfo {
  id: string;
  color: string;
  points: number;
  oldest: number;
  newest: number;
  max: number | null;
}

/** The page's debug snapshot (see static/app.ts). */
export interface Snapshot {
  state: string;
  frames: number;
  dropped: number;
  offsetMs: number;
  windowMs: number;
  instances: string[];
  charts: Record<
    "cpu" | "mem",
    {
      lines: LineInfo[];
      range: { min: number; max: number } | null;
      /**
       * The last frame: canvas width and the gutter kept clear for the y labels, CSS px; the
       * collector time at the canvas's right edge and ms per pixel.
       */
      frame: { width: number; gutter: number; right: number; millisPerPixel: number } | null;
    }
  >;
  collectorNow: number;
}

/** The page's global with the debug object, for `page.evaluate` callbacks. */
export type ZeroapmGlobal = { __zeroapm: { snapshot(): Snapshot } };

/** The page's debug snapshot. */
export function snapshot(page: Page): Promise<Snapshot> {
  return page.evaluate(() => (globalThis as unknown as ZeroapmGlobal).__zeroapm.snapshot());
}

/**
 * What a fake app reports on each tick: metric values given seconds since it started, and
 * any other series by key.
 */
export type Values = (
  elapsedS: number,
) => { cpu: number; memMiB: number; extra?: Record<string, number> };

/** A fake app pushing real protocol frames to a collector. */
export interface FakeApp {
  /** Samples ZMQ has taken so far. */
  readonly sent: number;
  stop(): Promise<void>;
}

/** Identity of a fake app. */
export function identity(
  service: string,
  instance: string,
  color: string | null,
  intervalMs: number,
  pid = 4000,
): Identity {
  return { service, instance, pid, host: "e2e-host", color, intervalMs };
}

/**
 * Start a fake app: every `intervalMs` it samples `values` and sends all unsent samples in
 * one frame (the agent's batch form), retrying until the collector's socket takes it.
 * `skewMs` shifts the app's clock; `seqStep` > 1 skips sequence numbers (lost samples).
 */
export function startFakeApp(
  endpoint: string,
  id: Identity,
  values: Values,
  opts: { skewMs?: number; seqStep?: number } = {},
): FakeApp {
  const skew = opts.skewMs ?? 0;
  const step = opts.seqStep ?? 1;
  const sender = connectPush(endpoint, { lingerMs: 0 });
  const interval = id.intervalMs ?? 200;
  const started = Date.now();
  let seq = 0;
  let sent = 0;
  let running = true;
  const pending: Array<{ seq: number; ts: number; metrics: Record<string, number> }> = [];
  const loop = (async () => {
    let next = Date.now();
    while (running) {
      const now = Date.now();
      if (now >= next) {
        const v = values((now - started) / 1000);
        pending.push({
          seq: seq += step,
          ts: now + skew,
          metrics: {
            ...v.extra,
            [METRICS.cpuPercent]: v.cpu,
            [METRICS.rssBytes]: Math.round(v.memMiB * MIB),
          },
        });
        if (pending.length > 500) pending.shift();
        next += interval;
        if (next < now) next = now + interval;
      }
      if (pending.length > 0) {
        const ok = await sender.trySend(encode(id, pending, Date.now() + skew));
        if (ok) {
          sent += pending.length;
          pending.length = 0;
        }
      }
      await new Promise((r) =>
        setTimeout(r, pending.length > 0 ? 20 : Math.max(1, next - Date.now()))
      );
    }
  })();
  return {
    get sent() {
      return sent;
    },
    async stop() {
      running = false;
      await loop;
      sender.close();
    },
  };
}

/** Stop every fake app, ignoring failures. */
export async function stopAll(apps: FakeApp[]): Promise<void> {
  await Promise.allSettled(apps.map((a) => a.stop()));
}

export { freePort } from "../support/net.ts";
export { startTestCollector } from "../support/collector.ts";

/**
 * Count pixels of a canvas close to an RGB colour (each channel within `tol`), in total and
 * per x range given as fractions of the width.
 */
export function countPixels(
  page: Page,
  canvasId: string,
  rgb: [number, number, number],
  opts: { tol?: number; fromX?: number; toX?: number } = {},
): Promise<
  {
    count: number;
    minX: number;
    maxX: number;
    minY: number;
    maxY: number;
    width: number;
    height: number;
  }
> {
  return page.evaluate(({ canvasId, rgb, tol, fromX, toX }) => {
    const c = document.getElementById(canvasId) as HTMLCanvasElement;
    const ctx = c.getContext("2d")!;
    const { width, height } = c;
    const data = ctx.getImageData(0, 0, width, height).data;
    const x0 = Math.floor(fromX * width);
    const x1 = Math.ceil(toX * width);
    let count = 0, minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
    for (let y = 0; y < height; y++) {
      for (let x = x0; x < x1; x++) {
        const i = (y * width + x) * 4;
        if (
          Math.abs(data[i] - rgb[0]) <= tol && Math.abs(data[i + 1] - rgb[1]) <= tol &&
          Math.abs(data[i + 2] - rgb[2]) <= tol
        ) {
          count++;
          if (x < minX) minX = x;
          if (x > maxX) maxX = x;
          if (y < minY) minY = y;
          if (y > maxY) maxY = y;
        }
      }
    }
    return { count, minX, maxX, minY, maxY, width, height };
  }, { canvasId, rgb, tol: opts.tol ?? 40, fromX: opts.fromX ?? 0, toX: opts.toX ?? 1 });
}

/** Poll {@link countPixels} until at least `min` pixels match, or fail after `timeout` ms. */
export async function waitForPixels(
  page: Page,
  canvasId: string,
  rgb: [number, number, number],
  min: number,
  opts: { tol?: number; fromX?: number; toX?: number; timeout?: number } = {},
): Promise<Awaited<ReturnType<typeof countPixels>>> {
  const deadline = Date.now() + (opts.timeout ?? 10_000);
  while (true) {
    const px = await countPixels(page, canvasId, rgb, opts);
    if (px.count >= min) return px;
    if (Date.now() > deadline) {
      throw new Error(
        `${canvasId}: ${px.count} pixels near rgb(${rgb}) (wanted ${min}) in x ${
          opts.fromX ?? 0
        }..${opts.toX ?? 1}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** {@link ensureBuilt}, and also the uPlot stylesheet the build copies (static/dist/uplot.css). */
export async function ensureBuiltWithCss(): Promise<void> {
  await ensureBuilt();
  if (await mtime(new URL("static/dist/uplot.css", ROOT)) > 0) return;
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["task", "build"],
    cwd: ROOT,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!r.success) throw new Error("deno task build failed");
}

/** One sample of a backlog: app-clock time and the two charted values. */
export interface BacklogSample {
  ts: number;
  cpu: number;
  memMiB: number;
}

/**
 * Deliver samples late, the way an agent flushes its backlog after the collector was away:
 * batch frames of at most 1 000 samples, each stamped `sent` = now, so the collector places
 * every sample at its own `ts` in the past. Resolves once ZMQ has taken every frame; the
 * returned `close()` should wait until the collector has them (it lingers 1 s anyway).
 */
export async function sendBacklog(
  endpoint: string,
  id: Identity,
  samples: readonly BacklogSample[],
  opts: { firstSeq?: number; timeoutMs?: number } = {},
): Promise<{ nextSeq: number; close(): void }> {
  const sender = connectPush(endpoint, { lingerMs: 1000 });
  let seq = opts.firstSeq ?? 1;
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (let i = 0; i < samples.length; i += 1000) {
    const batch = samples.slice(i, i + 1000).map((s) => ({
      seq: seq++,
      ts: s.ts,
      metrics: { [METRICS.cpuPercent]: s.cpu, [METRICS.rssBytes]: Math.round(s.memMiB * MIB) },
    }));
    while (!await sender.trySend(encode(id, batch, Date.now()))) {
      if (Date.now() > deadline) {
        sender.close();
        throw new Error(`backlog of ${id.service}/${id.instance}: collector did not take it`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return { nextSeq: seq, close: () => sender.close() };
}
