/**
 * An app started before its collector (or pointed at the wrong port): the agent says so once
 * after 10 s, with the reason, instead of staying silent; when a real collector then binds
 * that endpoint, the agent says it is connected and the samples it kept arrive, from seq 0.
 */
import assert from "node:assert/strict";
import type { Collector } from "../../lib/collector/collector.ts";
import { startTestCollector } from "../support/collector.ts";
import { createAgent } from "../../lib/agent/mod.ts";
import { instanceId } from "../../lib/collector/instances.ts";
import type { InstanceView } from "../../lib/live/messages.ts";
import { waitFor } from "../support/live.ts";
import { freePort } from "../support/net.ts";

Deno.test("an agent without a collector says so after 10 s, and again when it connects", async () => {
  const endpoint = `tcp://127.0.0.1:${freePort()}`;
  // The agent's default logger (console.error), as an app that passes no onError sees it.
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => lines.push(args.map(String).join(" "));
  const agent = createAgent({ service: "early", instance: "bird", collector: endpoint });
  let collector: Collector | null = null;
  try {
    const down = await waitFor(
      () => lines.find((l) => l.includes("no collector")),
      "the agent says it has no collector",
      15_000,
    );
    assert.match(
      down,
      new RegExp(
        `^zeroapm agent early/bird: no collector at ${endpoint} for 1\\d s \\(.*refused.*\\): ` +
          "keeping up to 3600 samples and retrying$",
        "i",
      ),
    );
    assert.equal(agent.stats().sent, 0);
    collector = await startTestCollector({ zmq: endpoint });
    const up = await waitFor(
      () => lines.find((l) => l.includes("connected")),
      "the agent says it is connected",
      10_000,
    );
    assert.match(up, new RegExp(`connected to ${endpoint} after 1\\d s; sending the samples kept`));
    assert.equal(lines.filter((l) => l.includes("no collector")).length, 1, "said once");
    const id = instanceId("early", "bird");
    const url = collector.httpUrl;
    const view = await waitFor(async () => {
      const list: InstanceView[] = await (await fetch(`${url}/api/instances`)).json();
      const v = list.find((x) => x.id === id);
      return v && v.received >= 10 && v;
    }, "the kept samples arrive");
    assert.equal(view.lost, 0, "none lost while waiting");
  } finally {
    await agent.stop();
    console.error = original;
    await collector?.stop();
  }
});
