/**
 * Stop signals for the command-line entry points (`server.ts`, the demo): the first one starts
 * a clean stop, a later one means "stop now". The same signal again within {@link REPEAT_MS} is
 * the first one arriving by a second route, not a second Ctrl-C: `timeout` signals its child and
 * then its whole group, and `deno task` passes a signal on that the group's has already brought.
 *
 * @module
 */

/** How soon after the first the same signal is taken for the first one again, ms. */
export const REPEAT_MS = 1000;

/** What {@link listenForSignals} gives. */
export interface StopSignals {
  /** The first signal. */
  first: Promise<Deno.Signal>;
  /** Stop listening. */
  dispose(): void;
}

/**
 * Listen for `names`: the first resolves `first`; later ones call `again`, except the first
 * signal repeated within {@link REPEAT_MS}.
 */
export function listenForSignals(
  names: readonly Deno.Signal[],
  again: (signal: Deno.Signal) => void,
): StopSignals {
  let resolve: (s: Deno.Signal) => void = () => {};
  let seen: { signal: Deno.Signal; at: number } | null = null;
  const first = new Promise<Deno.Signal>((r) => resolve = r);
  const handlers = names.map((s) => () => {
    const at = performance.now();
    if (!seen) {
      seen = { signal: s, at };
      return resolve(s);
    }
    if (s !== seen.signal || at - seen.at >= REPEAT_MS) again(s);
  });
  names.forEach((s, i) => Deno.addSignalListener(s, handlers[i]));
  return {
    first,
    dispose: () => names.forEach((s, i) => Deno.removeSignalListener(s, handlers[i])),
  };
}
