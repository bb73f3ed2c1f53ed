/**
 * The agent's own resident memory under Node, read every second at little cost (under Deno
 * the heap reading gives RSS too: lib/agent/process.ts): `/proc/self/statm` is opened once
 * and read again from its start each time. Opening a /proc file is most of the cost of
 * reading it (measured under Deno, first call after a timer wake-up: ~110 µs for
 * `process.memoryUsage()`, which opens statm each time, against ~40 µs for a read of the
 * open file). statm counts pages: the page size is the ratio to `process.memoryUsage().rss`
 * (lib/platform.ts) at start, rounded to a power of two (4 KiB on x86-64, 4, 16 or 64 KiB on
 * arm64).
 *
 * @module
 */
import { platform } from "../platform.ts";

/** Reads this process's RSS in bytes; `close()` releases the file. */
export interface SelfRss {
  /** Resident set size, bytes. Throws when the file cannot be read. */
  read(): number;
  close(): void;
}

/**
 * The second field of a statm line (`size resident shared text lib data dt`), parsed from
 * its ASCII bytes; NaN when the line does not have it.
 */
export function residentPages(bytes: Uint8Array, length: number): number {
  let i = 0;
  while (i < length && bytes[i] !== 0x20) i++; // skip "size"
  i++;
  let v = 0;
  let digits = 0;
  for (; i < length; i++) {
    const d = bytes[i] - 0x30;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
    digits++;
  }
  return digits > 0 ? v : NaN;
}

/** The power of two nearest to `rssBytes / pages`: the page size. NaN when unknowable. */
export function pageSizeFrom(rssBytes: number, pages: number): number {
  if (!(rssBytes > 0) || !(pages > 0)) return NaN;
  return 2 ** Math.round(Math.log2(rssBytes / pages));
}

/**
 * Open `/proc/self/statm` (or `path`) for repeated reads. Throws where it cannot (not
 * Linux, no /proc, a page size that does not come out): the caller then uses
 * `process.memoryUsage()`.
 */
export function openSelfRss(path = "/proc/self/statm"): SelfRss {
  const file = platform.keep(path);
  const buf = new Uint8Array(128);
  const pages = () => residentPages(buf, file.readFromStart(buf));
  try {
    const page = pageSizeFrom(platform.memoryUsage().rss, pages());
    if (!(page >= 1024 && page <= 1 << 21)) throw new Error(`page size ${page} from ${path}`);
    return {
      read() {
        const n = pages();
        if (!Number.isFinite(n)) throw new Error(`${path}: no resident page count`);
        return n * page;
      },
      close: () => file.close(),
    };
  } catch (e) {
    file.close();
    throw e;
  }
}
