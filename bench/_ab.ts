import { runCollector, runRaw } from "./ingest.ts";
const form = (Deno.args[0] ?? "single") as "single" | "batch";
const frames = form === "single" ? 60_000 : 3_000;
const senders = form === "single" ? 1 : 2;
const o = { form, batchSize: 100, senders, framesPerSender: Math.ceil(frames / senders), instances: 10, sendHwm: 1000, timeoutMs: 60_000 };
const which = Deno.args[1] ?? "collector";
if (which === "parse") {
  await runRaw({ ...o, pool: form === "single" ? 50_000 : 1_000, parse: true } as never);
  const r = await runRaw({ ...o, pool: form === "single" ? 50_000 : 1_000, parse: true } as never);
  console.log(JSON.stringify({ cpu: r.cpuUsPerSample, ms: r.ms }));
} else {
  const r = await runCollector({ ...o, history: true, pollMs: 50, warmupFrames: frames } as never);
  console.log(JSON.stringify({ cpu: r.cpuUsPerSample, ms: r.ms }));
}
Deno.exit(0);
