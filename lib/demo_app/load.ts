/**
 * The demo's own traffic (`--load RPS`): it calls its API about RPS times a second, with a mix
 * of routes and some unknown paths, at most 256 requests in flight.
 *
 * @module
 */

/** A running load loop. */
export interface Load {
  /** Requests answered (any status), failed (no answer) and skipped (too many in flight). */
  readonly answered: number;
  readonly failed: number;
  readonly skipped: number;
  /** Stop sending, abort requests in flight. */
  stop(): Promise<void>;
}

/**
 * Call the demo API about `rps` times a second: 60 % GET /users/:id, 20 % POST /bookings,
 * 10 % GET /health, 10 % unknown paths (404). At most 256 requests in flight.
 */
export function startLoad(url: string, rps: number, random = Math.random): Load {
  const abort = new AbortController();
  const inFlight = new Set<Promise<void>>();
  let answered = 0;
  let failed = 0;
  let skipped = 0;
  let budget = 0;
  const one = async () => {
    const r = random();
    const [method, path] = r < 0.6
      ? ["GET", `/users/${Math.floor(random() * 1000)}`]
      : r < 0.8
      ? ["POST", "/bookings"]
      : r < 0.9
      ? ["GET", "/health"]
      : ["GET", `/nowhere/${Math.floor(random() * 1000)}`];
    try {
      const res = await fetch(url + path, {
        method,
        body: method === "POST" ? JSON.stringify({ user: 1 }) : undefined,
        signal: abort.signal,
      });
      await res.body?.cancel();
      answered++;
    } catch {
      if (!abort.signal.aborted) failed++;
    }
  };
  const timer = setInterval(() => {
    budget = Math.min(budget + rps / 10, rps); // 10 ticks a second; no burst after a stall
    for (; budget >= 1; budget--) {
      if (inFlight.size >= 256) {
        skipped++;
        continue;
      }
      const p = one().finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  }, 100);
  return {
    get answered() {
      return answered;
    },
    get failed() {
      return failed;
    },
    get skipped() {
      return skipped;
    },
    async stop() {
      clearInterval(timer);
      abort.abort();
      await Promise.all(inFlight);
    },
  };
}
