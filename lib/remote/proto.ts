/**
 * Prometheus remote write 1.0 on the wire: a `WriteRequest` protobuf (prometheus/prompb
 * types.proto and remote.proto, field numbers kept) compressed with snappy's block format,
 * both from libraries (protobufjs' reflection API, snappyjs), nothing encoded by hand.
 *
 * @module
 */
import protobuf from "protobufjs";
import snappy from "snappyjs";

/** One series of a write request: labels (with `__name__`) and its samples, oldest first. */
export interface WriteSeries {
  labels: Array<{ name: string; value: string }>;
  samples: Array<{ value: number; timestamp: number }>;
}

/** The message types of remote write 1.0 that zeroapm sends (no metadata, no exemplars). */
const ROOT = protobuf.Root.fromJSON({
  nested: {
    prometheus: {
      nested: {
        WriteRequest: {
          fields: { timeseries: { rule: "repeated", type: "TimeSeries", id: 1 } },
        },
        TimeSeries: {
          fields: {
            labels: { rule: "repeated", type: "Label", id: 1 },
            samples: { rule: "repeated", type: "Sample", id: 2 },
          },
        },
        Label: { fields: { name: { type: "string", id: 1 }, value: { type: "string", id: 2 } } },
        Sample: {
          fields: { value: { type: "double", id: 1 }, timestamp: { type: "int64", id: 2 } },
        },
      },
    },
  },
});
const WRITE_REQUEST = ROOT.lookupType("prometheus.WriteRequest");

/** Headers remote write 1.0 asks for on every request. */
export const WRITE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "application/x-protobuf",
  "content-encoding": "snappy",
  "x-prometheus-remote-write-version": "0.1.0",
};

/** A remote-write request body: the protobuf `WriteRequest`, snappy-compressed. */
export function encodeWriteRequest(series: WriteSeries[]): Uint8Array {
  const raw = WRITE_REQUEST.encode({ timeseries: series }).finish();
  return snappy.compress(raw);
}

/** Back from a request body to its series (tests and the bench check what was sent). */
export function decodeWriteRequest(body: Uint8Array): WriteSeries[] {
  const msg = WRITE_REQUEST.decode(snappy.uncompress(body));
  const obj = WRITE_REQUEST.toObject(msg, { longs: Number, defaults: true }) as {
    timeseries: WriteSeries[];
  };
  return obj.timeseries;
}
