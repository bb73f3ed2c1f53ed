/**
 * Hostile input, in process: 100 000+ seeded hostile frames through the real decoder and the
 * real ingest (real Instances, RecentStore, Hub, CollectorStats), interleaved with good
 * frames from one known instance. Nothing throws, every refusal is counted under a reason,
 * and the known instance's series are exactly what it sent. Then the HTTP API of a real
 * collector with durable history: seeded hostile query strings to `/api/series`,
 * `/api/alerts` and `/ws`, each answered (never a 5xx) within a bounded time.
 */
import assert from "node:assert/strict";
import { startTestCollector } from "../support/collector.ts";
import { createIngest } from "../../lib/collector/ingest.ts";
import { instanceId, Instances } from "../../lib/collector/instances.ts";
import { CollectorStats, REFUSAL_REASONS } from "../../lib/collector/stats.ts";
import { RecentStore } from "../../lib/store/recent.ts";
import { Hub, type LiveSocket } from "../../lib/live/hub.ts";
import { samplesPoints } from "../../lib/live/samples.ts";
import { decodeMessage } from "../../lib/live/wire.ts";
import type { LiveFrame } from "../../lib/live/messages.ts";
import { decode, encode, type Identity, REJECT_REASONS } from "../../lib/protocol.ts";
import { hostileFrames, hostileQueries } from "../support/fuzz.ts";
import { DurableStore } from "../../lib/store/durable.ts";

const T0 = 1_700_000_000_000;
/** Frames of hostile input; override with FUZZ_FRAMES for a longer run. */
const FRAMES = Number(Deno.env.get("FUZZ_FRAMES") ?? 100_000);
const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 0x5eed);
const GOOD_EVERY = 50;
/** Frames per turn of the (simulated) event loop. */
const TURN = 120;

class RecordingSocket implements LiveSocket {
  readyState = 1;
  bufferedAmount = 0;
  goodPoints: Array<[number, number]> = [];
  constructor(private readonly goodId: string) {}
  send(data: string | Uint8Array): void {
    for (const f of decodeMessage(data) as LiveFrame[]) {
      if (f.type === "samples" && f.id === this.goodId) {
        this.goodPoints.push(...samplesPoints(f)["good.v"]);
      }
    }
  }
  close(): void {
    this.readyState = 3;
  }
}

Deno.test(`${FRAMES} hostile frames through decode + ingest: no throw, all counted, good data intact`, () => {
  let t = T0;
  const now = () => t;
  const instances = new Instances();
  const recent = new RecentStore({ windowMs: 24 * 3600_000 });
  const logs: string[] = [];
  const stats = new CollectorStats({ now, log: (l) => logs.push(l) });
  const hub = new Hub({
    now,
    hello: () => ({ type: "hello", now: t, windowMs: 0, instances: [], series: {} }),
    // The hub's turn ends every TURN frames (no timers in this synchronous run): hostile and
    // good frames share live frames, as they would in a receive loop's turn.
    nextTurn: (fn) => turns.push(fn),
  });
  let turns: Array<() => void> = [];
  const endTurn = () => {
    const run = turns;
    turns = [];
    for (const fn of run) fn();
  };
  const good: Identity = {
    service: "GOOD-sentinel",
    instance: "known-instance",
    pid: 4242,
    host: "good-host",
    color: "green",
    intervalMs: 1000,
  };
  const goodId = instanceId(good.service, good.instance);
  const socket = new RecordingSocket(goodId);
  hub.add(socket, null);
  const ingest = createIngest({ instances, recent, hub, stats, now });

  const gen = hostileFrames(SEED);
  const expectedByReason: Record<string, number> = Object.fromEntries(
    REJECT_REASONS.map((r) => [r, 0]),
  );
  const kinds: Record<string, number> = {};
  let decodedOk = 0;
  const sent: Array<[number, number]> = [];
  let goodSeq = 0;
  const started = performance.now();
  for (let i = 0; i < FRAMES; i++) {
    t += 1;
    if (i % GOOD_EVERY === 0) {
      const ts = t; // agent clock == collector clock: placed exactly at ts
      const v = goodSeq * 1.5;
      ingest(encode(good, [{ seq: goodSeq++, ts, metrics: { "good.v": v } }], ts));
      sent.push([ts, v]);
    }
    const { kind, frame } = gen.next();
    kinds[kind] = (kinds[kind] ?? 0) + 1;
    const d = decode(frame); // the decoder alone: must not throw either
    if (d.ok) decodedOk++;
    else expectedByReason[d.error.reason]++;
    assert.doesNotThrow(() => ingest(frame), `frame ${i} (${kind}) threw`);
    if (i % TURN === TURN - 1) endTurn();
  }
  endTurn();
  const elapsed = performance.now() - started;

  // Every decoder reject is counted under its reason, and nothing else is.
  for (const r of REJECT_REASONS) {
    assert.equal(stats.refused[r], expectedByReason[r], `byReason.${r}`);
  }
  const rejected = REJECT_REASONS.reduce((n, r) => n + expectedByReason[r], 0);
  const sumByReason = REFUSAL_REASONS.reduce((n, r) => n + stats.refused[r], 0);
  assert.equal(stats.refusedTotal, sumByReason);
  assert.equal(rejected + decodedOk, FRAMES);
  // Frames that decoded were either accepted or refused as a whole over the instance limit.
  assert.equal(stats.messages, decodedOk + sent.length - stats.refused.instance_limit);
  assert.ok(rejected > FRAMES / 2, `most hostile frames are rejected (${rejected})`);

  // The known instance: exactly what it sent, in the recent store and on the live stream.
  const stored = recent.read(goodId, t)["good.v"];
  assert.deepEqual(stored, sent);
  assert.deepEqual(socket.goodPoints, sent);
  const view = instances.get(goodId)!;
  assert.equal(view.received, sent.length);
  assert.equal(view.lost, 0);
  assert.equal(instances.duplicates().get(goodId), 0);
  assert.deepEqual(Object.keys(recent.read(goodId, t)), ["good.v"]);
  // The rate-limited log stayed small: one line per reason per minute of (fake) time.
  assert.ok(logs.length < 200, `${logs.length} log lines`);
  console.log(
    JSON.stringify({
      frames: FRAMES,
      seed: SEED,
      kinds,
      rejected,
      decodedOk,
      byReason: stats.refused,
      good: sent.length,
      ms: Math.round(elapsed),
    }),
  );
});

/** Hostile HTTP requests; override with FUZZ_HTTP for a longer run. */
const REQUESTS = Number(Deno.env.get("FUZZ_HTTP") ?? 1500);
/** The most any one request may take (generous: the machine is shared). */
const PER_REQUEST_MS = 3000;

Deno.test(`${REQUESTS} hostile queries to /api/series, /api/alerts and /ws: each answered, none over ${PER_REQUEST_MS} ms`, async () => {
  // History to query: three instances, 20 minutes of 1 s points each, sealed into chunks and
  // rollups (issue 16.1: a query to 8.64e15 walked the hour tier for 20 s, holding history).
  const dir = await Deno.makeTempDir({ prefix: "zeroapm-httpfuzz-" });
  const t0 = Date.now() - 20 * 60_000;
  const known = ["fz/one", "fz/two", "fz/three"];
  const store = DurableStore.open({ dir, now: () => Date.now() });
  for (const id of known) {
    for (let i = 0; i < 1200; i++) store.append(id, "cpu.percent", t0 + i * 1000, i % 100);
  }
  store.close();
  const collector = await startTestCollector({ dataDir: dir });
  const gen = hostileQueries(SEED, known);
  const byStatus: Record<string, number> = {};
  let slowest = { ms: 0, path: "" };
  try {
    for (let i = 0; i < REQUESTS; i++) {
      const q = gen.next();
      const started = performance.now();
      const status = q.kind === "ws"
        ? await openWs(collector.httpUrl.replace(/^http/, "ws") + q.path, PER_REQUEST_MS)
        : await getStatus(collector.httpUrl + q.path, PER_REQUEST_MS);
      const ms = performance.now() - started;
      if (ms > slowest.ms) slowest = { ms, path: q.path.slice(0, 200) };
      byStatus[status] = (byStatus[status] ?? 0) + 1;
      assert.ok(
        typeof status === "number" ? status < 500 : ["hello", "refused", "unsent"].includes(status),
        `request ${i} (seed ${SEED}): ${status} for ${q.path.slice(0, 200)}`,
      );
      assert.ok(
        ms < PER_REQUEST_MS,
        `request ${i} took ${ms.toFixed(0)} ms: ${q.path.slice(0, 200)}`,
      );
    }
    // Still serving, and history still answers a plain query.
    assert.equal(await getStatus(`${collector.httpUrl}/healthz`, PER_REQUEST_MS), 200);
    const ok = await fetch(
      `${collector.httpUrl}/api/series?instance=fz%2Fone&metric=cpu.percent&from=${t0}&points=20`,
    );
    const answered = (await ok.json()).series[0].points.length;
    assert.ok(answered >= 15 && answered <= 20, `${answered} of 20 buckets`);
  } finally {
    await collector.stop();
    await Deno.remove(dir, { recursive: true });
  }
  console.log(JSON.stringify({ requests: REQUESTS, seed: SEED, byStatus, slowest }));
});

/** GET `url`; its status, or "timeout" once `ms` pass. */
async function getStatus(url: string, ms: number): Promise<number | string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(ms) });
    await res.body?.cancel();
    return res.status;
  } catch (e) {
    if ((e as Error).name === "TimeoutError") return "timeout";
    // The client would not send it (fetch refuses some URLs): nothing reached the server.
    if (/Invalid URL/.test((e as Error).message)) return "unsent";
    return `error ${(e as Error).message.slice(0, 200)}`;
  }
}

/** Open a WebSocket: "hello" when its first frame is the hello, "refused" when it closes. */
function openWs(url: string, ms: number): Promise<string> {
  return new Promise((resolve) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch {
      return resolve("refused"); // a URL the client will not even send
    }
    const done = (what: string) => {
      clearTimeout(timer);
      ws.onmessage = ws.onclose = ws.onerror = null;
      if (ws.readyState === WebSocket.OPEN) {
        ws.close();
        ws.onclose = () => resolve(what);
        ws.onerror = () => resolve(what);
      } else resolve(what);
    };
    const timer = setTimeout(() => done("timeout"), ms);
    ws.onmessage = (e) => done(JSON.parse(e.data).type === "hello" ? "hello" : "other frame");
    ws.onclose = () => done("refused");
    ws.onerror = () => done("refused");
  });
}
