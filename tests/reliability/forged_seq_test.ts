/**
 * One forged frame must not silence a real instance (issue 16, item 2.4): a frame with the
 * victim's service, instance and pid and `seq` 2^53-1 once made every later real sample a
 * duplicate (0 points stored, `lost` 9007199254740984), also after a collector restart.
 */
import assert from "node:assert/strict";
import { Instances, type PersistedView } from "../../lib/collector/instances.ts";
import { SEQ_SLACK } from "../../lib/collector/sequence.ts";
import type { Message } from "../../lib/protocol.ts";

const T0 = 1_700_000_000_000;
const FORGED = Number.MAX_SAFE_INTEGER; // 2^53-1

/** A frame from the victim (or one forged to look like it): same service, instance, pid. */
function frame(seq: number, t: number): Message {
  return {
    identity: {
      service: "checkout",
      instance: "web-1",
      pid: 4242,
      host: "h",
      color: null,
      intervalMs: 1000,
      start: T0 - 60_000,
    },
    sent: t,
    samples: [{ seq, ts: t, metrics: { "cpu.percent": 5 } }],
    legacy: false,
  };
}

/** Feed the real agent's samples `from..to` one a second from `t`; count the samples kept. */
function realAgent(reg: Instances, from: number, to: number, t: number): number {
  let kept = 0;
  for (let seq = from; seq <= to; seq++) {
    const o = reg.observe(frame(seq, t + (seq - from) * 1000), t + (seq - from) * 1000);
    assert.ok(o.ok);
    kept += o.samples.length;
  }
  return kept;
}

Deno.test("a forged frame with seq 2^53-1 is a counted reset, and the real agent's samples keep being stored", () => {
  const reg = new Instances();
  assert.equal(realAgent(reg, 0, 9, T0), 10);
  const forged = reg.observe(frame(FORGED, T0 + 9_500), T0 + 9_500);
  assert.ok(forged.ok);
  const kept = realAgent(reg, 10, 29, T0 + 10_000);
  assert.equal(kept, 20, "every real sample after the forged one is stored");
  const v = reg.list()[0];
  assert.equal(v.lost, 0, "the forged number is no gap");
  assert.equal(v.seqResets, 1, "the forged number is counted and shown");
  assert.equal(v.status, "live");
  assert.equal(reg.lastSeq(v.id), 29, "the baseline is the real sequence");
});

Deno.test("a forged seq persisted before a restart does not silence the agent after it", () => {
  // The collector that saw the forged frame persisted it as the baseline (older code did).
  const before = new Instances();
  realAgent(before, 0, 4, T0);
  const view = before.list()[0];
  const persisted: PersistedView = {
    ...structuredClone(view),
    lastSeq: FORGED,
    agentStart: T0 - 60_000,
  };
  const after = new Instances();
  after.restore([persisted], T0 + 60_000);
  const kept = realAgent(after, 5, 24, T0 + 60_000);
  assert.equal(kept, 20, "every real sample after the restart is stored");
  const v = after.list()[0];
  assert.ok(v.seqResets >= 1 && v.seqResets <= 3, `a few counted resets, got ${v.seqResets}`);
  assert.equal(after.lastSeq(v.id), 24, "three numbers in a row become the baseline again");
  assert.ok(v.lost < 10, `no absurd loss, got ${v.lost}`);
});

Deno.test("a gap a real agent could have made is still loss, and a replay is still a duplicate", () => {
  const reg = new Instances();
  realAgent(reg, 0, 4, T0);
  // Ten minutes away (collector down): 600 samples the agent could not deliver.
  const o = reg.observe(frame(605, T0 + 604_000), T0 + 604_000);
  assert.ok(o.ok && o.samples.length === 1);
  const v = reg.list()[0];
  assert.equal(v.lost, 600);
  assert.equal(v.seqResets, 0);
  const replay = reg.observe(frame(600, T0 + 604_100), T0 + 604_100);
  assert.ok(replay.ok && replay.samples.length === 0, "a replayed number is dropped");
  // One beyond what the elapsed time allows is a reset, not loss.
  const jump = reg.observe(frame(605 + SEQ_SLACK + 10, T0 + 605_000), T0 + 605_000);
  assert.ok(jump.ok && jump.samples.length === 1);
  assert.equal(reg.list()[0].lost, 600);
  assert.equal(reg.list()[0].seqResets, 1);
});
