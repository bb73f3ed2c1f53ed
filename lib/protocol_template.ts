/**
 * Wire protocol v1: a known sender's usual single frame, read against the bytes of its last
 * one. An agent's single frames differ from one another only in their numbers (`sent`, `seq`,
 * `ts`, the metric values); the identity, the field names, the metric keys and the
 * punctuation are the same bytes frame after frame. A {@link Template}, made from a frame the
 * full decoder (protocol.ts) accepted as the usual single frame, keeps those bytes and where
 * each number goes. A frame whose bytes equal them outside the numbers, and whose numbers are
 * JSON numbers that pass the decoder's checks, is read into the decoder's reused message
 * (FrameColumns.single) with no UTF-8 decoding, no `JSON.parse` and no walk over parsed
 * objects: it has the same JSON structure as the frame the template was made from, with other
 * numbers at those places, so it means what that frame meant with these numbers. Anything
 * else (another byte, a number out of range or not in JSON's grammar, no template) is left to
 * the full decoder, which gives the answer or the refusal. Nothing on the wire changes.
 *
 * @module
 */
import type { Identity, Message } from "./protocol.ts";
import type { FrameColumns } from "./protocol_columns.ts";

/** Frames longer than this are never read by template (batches, and their memory bounded). */
export const MAX_TEMPLATE_BYTES = 2048;
/** Most templates kept; the oldest made goes first. */
export const MAX_TEMPLATES = 4096;
/** Most memory the templates may hold, by {@link Template.cost}; the oldest made goes first. */
export const MAX_TEMPLATE_MEMORY = 8 * 1024 * 1024;

/** With every template slot taken, a template is made for one miss in this many. */
export const LEARN_WHEN_FULL = 64;

/** Where a number of the frame goes: a metric's column (0, 1, ...) or one of these. */
const SENT = -1;
const SEQ = -2;
const TS = -3;

const COLON = 58;
const SPACE = 32;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** 10^k, exact as doubles for k <= 22; a mantissa of at most 15 digits divided by one of
 * them is the correctly rounded value (Clinger's fast path), as JSON.parse gives. */
const POW10 = Array.from({ length: 16 }, (_, k) => 10 ** k);

/** One sender's single frame: its fixed bytes and the place and meaning of each number. */
export class Template {
  constructor(
    /** The frame it was made from: the fixed bytes are read from it. */
    readonly bytes: Uint8Array,
    /** Fixed run k is `bytes[from[k], to[k])`; number k sits between runs k and k + 1. */
    readonly from: Int32Array,
    readonly to: Int32Array,
    /** What number k is: SENT, SEQ, TS, or the metric column (index into `keys`). */
    readonly roles: Int32Array,
    readonly identity: Identity,
    readonly keys: readonly string[],
    /** An object with `keys` in their order: each frame's `metrics` is a copy, filled in. */
    readonly blank: Record<string, number>,
  ) {}

  /** Its memory, estimated: its bytes, and per number its three entries and `blank`'s field. */
  get cost(): number {
    return this.bytes.length + 64 * (this.roles.length + 1);
  }
}

/**
 * The templates of the senders heard (at most {@link MAX_TEMPLATES} and
 * {@link MAX_TEMPLATE_MEMORY}), found by a hash of the bytes before a frame's first number,
 * and counts of what they did (for tests and benches). One per FrameColumns, so per receive
 * path: no module state.
 */
export class FrameTemplates {
  #byPrefix = new Map<number, Template>();
  /** The templates' memory, by {@link Template.cost}. */
  #cost = 0;
  /** The longest prefix of any template: a frame is hashed no further than this. */
  #maxPrefix = 0;
  /** Frames read by template, frames that found none, frames that found one and differed. */
  hits = 0;
  misses = 0;
  mismatches = 0;

  /** How many templates are kept. */
  get size(): number {
    return this.#byPrefix.size;
  }

  /** Their memory, estimated (Template.cost). */
  get memory(): number {
    return this.#cost;
  }

  /**
   * The frame read by its sender's template into `cols`' reused message (as protocol.ts's
   * decoder fills it for the usual single frame), or null: then the full decoder is to read
   * it. Never throws.
   */
  read(frame: Uint8Array, cols: FrameColumns): Message | null {
    const n = frame.length;
    if (n > MAX_TEMPLATE_BYTES || this.#byPrefix.size === 0) return null;
    // The template: at each ':' (or space) before a number's first byte, the hash so far.
    const last = Math.min(n - 1, this.#maxPrefix);
    let h = FNV_OFFSET;
    let t: Template | undefined;
    for (let p = 0; p < last; p++) {
      const b = frame[p];
      h = Math.imul(h ^ b, FNV_PRIME);
      if (b === COLON || b === SPACE) {
        const c = frame[p + 1];
        if ((c >= ZERO && c <= NINE) || c === MINUS) {
          t = this.#byPrefix.get(prefixKey(h, p + 1));
          if (t !== undefined) break;
        }
      }
    }
    if (t === undefined) {
      this.misses++;
      return null;
    }
    const m = this.#fill(frame, t, cols);
    if (m === null) this.mismatches++;
    else this.hits++;
    return m;
  }

  /**
   * Make (or remake) the template of `frame`, which the full decoder just read as `message`,
   * the usual single frame in `cols` (FrameColumns.single with Message.keys). Does nothing for
   * a frame no template can read (too long, escaped keys, a repeated field, ...).
   */
  learn(frame: Uint8Array, message: Message, cols: FrameColumns): void {
    if (frame.length > MAX_TEMPLATE_BYTES || message !== cols.single || !message.keys) return;
    // Full, with more senders than templates: one miss in LEARN_WHEN_FULL makes one, so a
    // template's cost (several full decodes) is not paid on every frame while they churn.
    if (this.#full(MAX_TEMPLATE_BYTES) && this.misses % LEARN_WHEN_FULL !== 0) return;
    const t = makeTemplate(frame, message.identity, message.keys);
    if (t === null) return;
    const start = t.to[0];
    let h = FNV_OFFSET;
    for (let p = 0; p < start; p++) h = Math.imul(h ^ frame[p], FNV_PRIME);
    const key = prefixKey(h, start);
    this.#drop(key); // remade: it goes last, as the newest
    while (this.#byPrefix.size > 0 && this.#full(t.cost)) {
      this.#drop(this.#byPrefix.keys().next().value!); // the oldest made
    }
    this.#byPrefix.set(key, t);
    this.#cost += t.cost;
    if (start > this.#maxPrefix) this.#maxPrefix = start;
  }

  /** No room for one more template of `cost`. */
  #full(cost: number): boolean {
    return this.#byPrefix.size >= MAX_TEMPLATES || this.#cost + cost > MAX_TEMPLATE_MEMORY;
  }

  #drop(key: number): void {
    const t = this.#byPrefix.get(key);
    if (t === undefined) return;
    this.#byPrefix.delete(key);
    this.#cost -= t.cost;
  }

  /** The frame through `t` into `cols`, or null where it differs or a number is refused. */
  #fill(frame: Uint8Array, t: Template, cols: FrameColumns): Message | null {
    const n = frame.length;
    const fixed = t.bytes;
    const { from, to, roles, keys } = t;
    let pos = to[0];
    for (let i = 0; i < pos; i++) if (frame[i] !== fixed[i]) return null;
    const values = cols.values;
    let seq: number | null = null;
    let ts = 0;
    let sent = -1;
    for (let k = 0; k < roles.length; k++) {
      // The number: JSON's grammar, -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
      const at = pos;
      let neg = false;
      let c = pos < n ? frame[pos] : 0;
      if (c === MINUS) {
        neg = true;
        c = ++pos < n ? frame[pos] : 0;
      }
      if (c < ZERO || c > NINE) return null;
      // The digits, integer and fraction part, as one mantissa: the last up to 8 in an int
      // (`lo`, int32 arithmetic), those before in `hi`; exact while there are at most 15.
      let hi = 0;
      let lo = 0;
      let inLo = 0;
      let digits = 0;
      let frac = 0;
      if (c === ZERO) { // a leading zero is the whole integer part
        digits = inLo = 1;
        c = ++pos < n ? frame[pos] : 0;
        if (c >= ZERO && c <= NINE) return null; // (the fixed bytes after it differ too)
      }
      // Digits, then at most one '.' with at least one digit after it.
      let dot = false;
      for (;;) {
        if (c >= ZERO && c <= NINE) {
          if (inLo === 8) {
            hi = hi * 1e8 + lo;
            lo = inLo = 0;
          }
          lo = lo * 10 + (c - ZERO);
          inLo++;
          digits++;
          if (dot) frac++;
        } else if (c === DOT && !dot) {
          dot = true;
          c = ++pos < n ? frame[pos] : 0;
          if (c < ZERO || c > NINE) return null;
          continue;
        } else break;
        c = ++pos < n ? frame[pos] : 0;
      }
      let exact = digits <= 15;
      if (c === 101 || c === 69) { // e, E
        c = ++pos < n ? frame[pos] : 0;
        if (c === 43 || c === MINUS) c = ++pos < n ? frame[pos] : 0;
        if (c < ZERO || c > NINE) return null;
        while (c >= ZERO && c <= NINE) c = ++pos < n ? frame[pos] : 0;
        exact = false;
      }
      let v: number;
      if (exact) {
        const mant = hi * POW10[inLo] + lo;
        v = frac === 0 ? mant : mant / POW10[frac];
        if (neg) v = -v;
      } else v = Number(String.fromCharCode.apply(null, frame.subarray(at, pos) as never));
      // What the decoder checks of that field (protocol.ts, protocol_sample.ts).
      const role = roles[k];
      if (role >= 0) {
        if (!Number.isFinite(v)) return null;
        values[role] = v;
      } else if (role === SEQ) {
        if (!Number.isSafeInteger(v) || v < 0) return null;
        seq = v;
      } else {
        if (!(v >= 0 && v <= 8.64e15)) return null;
        if (role === TS) ts = v;
        else sent = v;
      }
      // The fixed bytes after it.
      const a = from[k + 1];
      const len = to[k + 1] - a;
      if (pos + len > n) return null;
      for (let i = 0; i < len; i++) if (frame[pos + i] !== fixed[a + i]) return null;
      pos += len;
    }
    if (pos !== n) return null;
    // The decoder's reused message, as it fills it (protocol.ts, the usual single frame).
    const metrics = { ...t.blank };
    for (let j = 0; j < keys.length; j++) metrics[keys[j]] = values[j];
    const sample = cols.sample;
    sample.seq = seq;
    sample.ts = ts;
    sample.metrics = metrics;
    cols.rows = 1;
    const m = cols.single!;
    m.identity = t.identity;
    m.sent = sent >= 0 ? sent : ts;
    m.samples[0] = sample;
    m.keys = keys;
    return m;
  }
}

/** A Smi-sized map key from a prefix's hash and length (a clash only costs a full decode). */
function prefixKey(h: number, length: number): number {
  return (h ^ Math.imul(length, 0x9e3779b1)) & 0x3fffffff;
}

/**
 * The template of a frame the decoder accepted as a usual single frame with `keys`, or null
 * when no template can read it: every top-level `sent`, `seq`, `ts` number and each metric's
 * number is a place; everything else is fixed bytes. Refused: a field or metric given twice,
 * a key written with escapes or beyond ASCII, a first number not right after ':' or a space.
 */
function makeTemplate(
  bytes: Uint8Array,
  identity: Identity,
  keys: readonly string[],
): Template | null {
  const scan = new LayoutScan(bytes, keys);
  try {
    scan.value(TOP);
  } catch (e) {
    if (e === REFUSED) return null;
    throw e;
  }
  const { starts, ends, roles } = scan;
  const found = new Set(roles);
  if (found.size !== roles.length || !found.has(TS)) return null; // a place twice, or no ts
  for (let j = 0; j < keys.length; j++) if (!found.has(j)) return null;
  const before = bytes[starts[0] - 1];
  if (before !== COLON && before !== SPACE) return null;
  const n = roles.length;
  const from = new Int32Array(n + 1);
  const to = new Int32Array(n + 1);
  for (let k = 0; k <= n; k++) {
    from[k] = k === 0 ? 0 : ends[k - 1];
    to[k] = k === n ? bytes.length : starts[k];
  }
  const blank: Record<string, number> = {};
  for (const key of keys) blank[key] = 0;
  return new Template(
    bytes.slice(),
    from,
    to,
    Int32Array.from(roles),
    identity,
    keys,
    blank,
  );
}

const REFUSED = new Error("no template");
/** What object a value is in: the frame itself, its `metrics`, or anything else. */
const TOP = 1;
const METRICS_OBJECT = 2;
const OTHER = 3;

/**
 * A walk over a valid JSON frame (the decoder accepted it) that notes where each number of a
 * place is: {@link makeTemplate}'s only helper, run once per sender, not per frame.
 */
class LayoutScan {
  pos = 0;
  starts: number[] = [];
  ends: number[] = [];
  roles: number[] = [];
  #index: Map<string, number>;

  constructor(readonly b: Uint8Array, keys: readonly string[]) {
    this.#index = new Map(keys.map((k, j) => [k, j]));
  }

  /** One value, in an object of kind `inside` under a key whose place is `role` (or null). */
  value(inside: number, role: number | null = null): void {
    this.#space();
    const c = this.b[this.pos];
    if (c === 0x7b) this.#object(inside);
    else if (c === 0x5b) this.#array();
    else if (c === 0x22) this.#string(false);
    else if (c === MINUS || (c >= ZERO && c <= NINE)) {
      const start = this.pos;
      while (this.pos < this.b.length && isNumberByte(this.b[this.pos])) this.pos++;
      if (role !== null) {
        this.starts.push(start);
        this.ends.push(this.pos);
        this.roles.push(role);
      }
    } else { // true, false, null
      while (this.pos < this.b.length && this.b[this.pos] >= 0x61 && this.b[this.pos] <= 0x7a) {
        this.pos++;
      }
    }
  }

  /** An object; `kind` is TOP for the frame itself (only the first value is the frame). */
  #object(kind: number): void {
    const top = kind === TOP && this.pos === 0;
    const metrics = kind === METRICS_OBJECT;
    this.pos++; // {
    // JSON.parse keeps a repeated key's last value: a template refuses them where it reads.
    const seen = top || metrics ? new Set<string>() : null;
    for (;;) {
      this.#space();
      if (this.b[this.pos] === 0x7d) break; // }
      const key = this.#string(seen !== null);
      this.#space();
      this.pos++; // :
      if (seen !== null) {
        if (key === null || seen.has(key)) throw REFUSED; // escaped: it may repeat another
        seen.add(key);
      }
      if (top) {
        const role = key === "sent" ? SENT : key === "seq" ? SEQ : key === "ts" ? TS : null;
        this.value(key === "metrics" ? METRICS_OBJECT : OTHER, role);
      } else if (metrics) {
        const column = this.#index.get(key!);
        if (column === undefined) throw REFUSED;
        this.value(OTHER, column);
      } else this.value(OTHER);
      this.#space();
      if (this.b[this.pos] === 0x2c) this.pos++; // ,
    }
    this.pos++; // }
  }

  #array(): void {
    this.pos++; // [
    for (;;) {
      this.#space();
      if (this.b[this.pos] === 0x5d) break; // ]
      this.value(OTHER);
      this.#space();
      if (this.b[this.pos] === 0x2c) this.pos++;
    }
    this.pos++; // ]
  }

  /**
   * A string at `pos`; with `text`, its text when it is plain ASCII without escapes (a key
   * the template reads by), else null.
   */
  #string(text: boolean): string | null {
    const b = this.b;
    const start = ++this.pos;
    let plain = true;
    while (b[this.pos] !== 0x22) {
      if (b[this.pos] === 0x5c) { // a backslash: the next byte is escaped
        plain = false;
        this.pos++;
      } else if (b[this.pos] >= 0x80) plain = false;
      this.pos++;
    }
    const end = this.pos++;
    return text && plain ? String.fromCharCode(...b.subarray(start, end)) : null;
  }

  #space(): void {
    const b = this.b;
    while (b[this.pos] === SPACE || b[this.pos] === 9 || b[this.pos] === 10 || b[this.pos] === 13) {
      this.pos++;
    }
  }
}

/** A byte of a JSON number (the decoder accepted the frame, so the run is one number). */
function isNumberByte(c: number): boolean {
  return (c >= ZERO && c <= NINE) || c === MINUS || c === 0x2b || c === DOT || c === 0x65 ||
    c === 0x45;
}
