/**
 * Test support: an InstanceView as the registry would build it, and the agent identity a frame
 * carries, with the fields a test cares about overridden. The id follows from service and
 * instance, as in instances.ts.
 *
 * @module
 */
import { instanceId } from "../../lib/collector/instances.ts";
import type { InstanceView } from "../../lib/live/messages.ts";
import type { Identity } from "../../lib/protocol.ts";

/** An agent's identity, `svc/h:1` at 1 s, overridden by `over`. */
export function identity(over: Partial<Identity> = {}): Identity {
  return {
    service: "svc",
    instance: "h:1",
    pid: 1,
    host: "h",
    color: "red",
    intervalMs: 1000,
    ...over,
  };
}

/** A live instance `backend/a` seen at `t`, overridden by `over`. */
export function instanceView(over: Partial<InstanceView> = {}, t = 0): InstanceView {
  const service = over.service ?? "backend";
  const instance = over.instance ?? "a";
  return {
    id: instanceId(service, instance),
    service,
    instance,
    pid: 1,
    host: "h",
    color: "red",
    requestedColor: "red",
    status: "live",
    firstSeen: t,
    lastSeen: t,
    clockOffsetMs: 0,
    intervalMs: 1000,
    received: 0,
    lost: 0,
    startedAt: t,
    restarts: 0,
    lastRestartAt: null,
    seqResets: 0,
    latest: {},
    ...over,
  };
}
