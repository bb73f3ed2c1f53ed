/**
 * Issue 16.7 against the real `server.ts`: a damaged history database no longer stops the
 * collector (it exited 1 with a message that did not name the file, and under
 * `Restart=on-failure` failed forever). It logs what was damaged and where the copy is,
 * and collects: an agent's samples are listed, kept and served from history.
 */
import assert from "node:assert/strict";
import { createAgent } from "../../lib/agent/mod.ts";
import { instanceId } from "../../lib/collector/instances.ts";
import type { InstanceView } from "../../lib/live/messages.ts";
import { DurableStore } from "../../lib/store/durable.ts";
import { waitFor } from "../support/live.ts";
import { startServer } from "../support/server_process.ts";
import { tempDir } from "../support/temp_dir.ts";

Deno.test("a collector on a damaged database starts, says where the damaged copy is, and collects", async () => {
  using tmp = tempDir("zeroapm-damaged-");
  const dir = tmp.path;
  const s = DurableStore.open({ dir, now: () => Date.now() });
  for (let i = 0; i < 100; i++) s.append("old/one", "cpu.percent", Date.now() - 1000 + i, i);
  s.close();
  const f = await Deno.open(`${dir}/zeroapm.db`, { write: true });
  await f.write(new Uint8Array(100).fill(0xa5)); // the file header: "not a database"
  f.close();

  const server = await startServer([
    "--data",
    dir,
  ]);
  const agent = createAgent({
    service: "after",
    instance: "damage",
    collector: server.zmqEndpoint,
    intervalMs: 20,
  });
  try {
    const said = server.output.find((l) => l.includes("is damaged"));
    assert.ok(said, server.output.join("\n"));
    assert.ok(said.includes(`${dir}/zeroapm.db is damaged`), said);
    const aside = /moved to (\S+)\. /.exec(said)?.[1];
    assert.ok(aside && (await Deno.stat(aside)).size > 0, `kept aside: ${aside}`);
    const id = instanceId("after", "damage");
    await waitFor(async () => {
      const list: InstanceView[] = await (await fetch(`${server.httpUrl}/api/instances`)).json();
      return (list.find((v) => v.id === id)?.received ?? 0) >= 10;
    }, "10 samples from the agent");
    const q = `instance=${encodeURIComponent(id)}&metric=cpu.percent&from=${Date.now() - 60_000}`;
    const res = await fetch(`${server.httpUrl}/api/series?${q}&points=60`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.ok(body.series[0].points.length > 0, "history is kept again");
  } finally {
    await agent.stop();
    assert.equal(await server.stop(), 0, server.output.join("\n"));
  }
});
