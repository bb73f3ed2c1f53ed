/**
 * A real collector for a test: HTTP and ZMQ on spare loopback ports, quiet, history in memory
 * unless the options say otherwise (they override these).
 *
 * @module
 */
import {
  type Collector,
  type CollectorOptions,
  startCollector,
} from "../../lib/collector/collector.ts";

/** Start a collector on spare loopback ports that logs nothing; `options` override. */
export function startTestCollector(options: CollectorOptions = {}): Promise<Collector> {
  return startCollector({
    httpHost: "127.0.0.1",
    httpPort: 0,
    zmq: "tcp://127.0.0.1:*",
    log: () => {},
    ...options,
  });
}
