/**
 * One `/ws` message as it goes on the wire, both ways: {@link encodeTurn} turns a turn's held
 * frames into a message (the hub), {@link decodeMessage} turns a message back into frames (the
 * page, tests and benches). A turn with no samples frame is JSON text, as before; a turn with
 * samples frames is ONE binary message: its frames as a JSON `batch` header, where each
 * samples frame carries its sample count `n` and metric names `m` instead of columns, then
 * every samples frame's columns as little-endian Float64 (docs/api.md gives the byte layout).
 *
 * Why: writing ~500 doubles as decimal text per 100 samples was most of what the live hub cost
 * per sample on the collector's main thread (`JSON.stringify`, ~19 µs a 100-sample frame);
 * copying them into a Float64Array is a memory copy, and the page reads them as views
 * without parsing. NaN marks a sample that lacks a metric: the wire never carries NaN
 * (lib/protocol_sample.ts and lib/otlp/translate.ts refuse values that are not finite).
 *
 * @module
 */
import type { LiveColumn, SamplesColumns } from "./samples.ts";

/** Bytes before the header: its length, u32 little-endian. */
const PREFIX = 4;
const SPACE = 0x20;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
/** True on a little-endian host (all Deno and browser platforms); Float64Array is host order. */
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/**
 * Reused for the header's UTF-8 before the message's size is known; made on the first
 * encode (the page only decodes).
 */
let scratch: Uint8Array | undefined;
const SCRATCH_BYTES = 64 * 1024;

/**
 * The message for a turn's frames, in order: serialised frames (strings) and samples frames
 * still as columns. Text when there is no samples frame (one frame bare, more as a `batch`),
 * else the binary form.
 */
export function encodeTurn(held: ReadonlyArray<string | SamplesColumns>): string | Uint8Array {
  let header = "";
  let floats = 0;
  let binary = false;
  for (let i = 0; i < held.length; i++) {
    const f = held[i];
    if (i > 0) header += ",";
    if (typeof f === "string") {
      header += f;
      continue;
    }
    binary = true;
    const n = f.length;
    floats += n * (1 + f.names.length);
    header += `{"type":"samples","now":${f.now},"id":${f.idJSON},"n":${n},"m":${f.namesJSON()}}`;
  }
  if (!binary) return held.length === 1 ? header : `{"type":"batch","frames":[${header}]}`;
  header = `{"type":"batch","frames":[${header}]}`;
  // The header's UTF-8 (at most 3 bytes a UTF-16 unit): in the reused buffer, or for a rare
  // big turn (a once-a-second round over many instances) in its own, not kept.
  const buf = header.length * 3 <= SCRATCH_BYTES ? scratch ??= new Uint8Array(SCRATCH_BYTES) : null;
  const utf8 = buf
    ? buf.subarray(0, encoder.encodeInto(header, buf).written)
    : encoder.encode(header);
  const written = utf8.length;
  // Spaces after the JSON (still valid JSON) bring the floats to an offset divisible by 8.
  const start = (PREFIX + written + 7) & ~7;
  const out = new Uint8Array(start + floats * 8);
  new DataView(out.buffer).setUint32(0, start - PREFIX, true);
  out.set(utf8, PREFIX);
  out.fill(SPACE, PREFIX + written, start);
  const f64 = new Float64Array(out.buffer, start, floats);
  let at = 0;
  for (const f of held) {
    if (typeof f === "string") continue;
    const n = f.length;
    at = copy(f64, at, f.t, n);
    for (let i = 0; i < f.cols.length; i++) at = copy(f64, at, f.cols[i], n);
  }
  if (!LITTLE) swap8(out.subarray(start));
  return out;
}

/**
 * `col`'s values into `out` from `at`, padded with NaN to `n` (a column is padded lazily: the
 * samples after its last value lack it); returns the place after them.
 */
function copy(out: Float64Array, at: number, col: LiveColumn, n: number): number {
  const len = col.length;
  const a = col.a;
  // A loop for a few values, a block copy of the column's view beyond (LiveColumn.view).
  if (len <= 16) {
    for (let i = 0; i < len; i++) out[at + i] = a[i];
  } else out.set(col.view(), at);
  if (len < n) out.fill(NaN, at + len, at + n);
  return at + n;
}

/**
 * The frames of one `/ws` message, text or binary, in order; null when it is not a message
 * at all (bad JSON, a buffer whose header or length do not add up). Trusts nothing: a binary
 * message's columns are read only within the buffer, whatever its header says, and become
 * `Float64Array` views (NaN where a sample lacks the metric) in samples frames of the same
 * shape as the JSON form. Other frames are returned as parsed: the reader checks each.
 */
export function decodeMessage(data: unknown): unknown[] | null {
  if (typeof data === "string") {
    let frame: unknown;
    try {
      frame = JSON.parse(data);
    } catch {
      return null;
    }
    const batch = (frame as { type?: unknown } | null)?.type === "batch"
      ? (frame as { frames?: unknown }).frames
      : undefined;
    return batch === undefined ? [frame] : Array.isArray(batch) ? batch : null;
  }
  let bytes: Uint8Array;
  if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
  else if (ArrayBuffer.isView(data)) {
    bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } else return null;
  if (bytes.length < PREFIX) return null;
  const size = new DataView(bytes.buffer, bytes.byteOffset, PREFIX).getUint32(0, true);
  const start = PREFIX + size;
  if (start > bytes.length || start % 8 !== 0 || (bytes.length - start) % 8 !== 0) return null;
  let header: unknown;
  try {
    header = JSON.parse(decoder.decode(bytes.subarray(PREFIX, start)));
  } catch {
    return null;
  }
  const frames = (header as { type?: unknown } | null)?.type === "batch"
    ? (header as { frames?: unknown }).frames
    : null;
  if (!Array.isArray(frames)) return null;
  const total = (bytes.length - start) / 8;
  // A view when the floats are aligned in memory (a received ArrayBuffer), else a copy.
  let f64: Float64Array;
  if ((bytes.byteOffset + start) % 8 === 0 && LITTLE) {
    f64 = new Float64Array(bytes.buffer, bytes.byteOffset + start, total);
  } else {
    const copy = bytes.slice(start);
    if (!LITTLE) swap8(copy);
    f64 = new Float64Array(copy.buffer, 0, total);
  }
  let at = 0;
  const out: unknown[] = [];
  for (const f of frames) {
    if ((f as { type?: unknown } | null)?.type !== "samples") {
      out.push(f);
      continue;
    }
    const { now, id, n, m } = f as { now?: unknown; id?: unknown; n?: unknown; m?: unknown };
    if (!Number.isSafeInteger(n) || (n as number) < 0 || !Array.isArray(m)) return null;
    const count = n as number;
    if (at + count * (1 + m.length) > total) return null;
    const t = f64.subarray(at, at += count);
    const v: Record<string, Float64Array> = Object.create(null);
    for (const name of m) {
      if (typeof name !== "string") return null;
      v[name] = f64.subarray(at, at += count);
    }
    out.push({ type: "samples", now, id, t, v });
  }
  return at === total ? out : null;
}

/** Reverse each 8-byte group in place (a big-endian host; none is known to run this). */
function swap8(b: Uint8Array): void {
  for (let i = 0; i + 8 <= b.length; i += 8) b.subarray(i, i + 8).reverse();
}
