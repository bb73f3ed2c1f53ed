/**
 * One way the command lines (`server.ts`, `backend_app.ts`, `deno task watch`) read their
 * flags: node:util's parseArgs, strict, and every mistake a {@link UsageError} whose message
 * names the flag; the entry point prints it with a {@link helpHint} and exits 2. Shared flag rules
 * live here too, so `--interval` means the same everywhere.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { safeColor } from "./colors.ts";
import { errorMessage } from "./errors.ts";

/**
 * The line printed under a command-line error: where the options are. Not the usage itself:
 * at 20-50 lines it pushed the one line that said what was wrong off the screen.
 */
export function helpHint(command: string): string {
  return `Run "${command} --help" for the options.`;
}

/** A bad command line: the message says which flag and why. */
export class UsageError extends Error {}

/** The reporting interval a command line accepts, ms: 10 ms to a day, a whole number. */
export const INTERVAL_MS = { min: 10, max: 86_400_000 } as const;

/**
 * node:util's parseArgs, strict, with its errors as a {@link UsageError} of one line (a
 * negative number's error is three: the last says to write `--leak=-5`, so all are kept).
 */
export function parseFlags<T extends ParseArgsConfig["options"]>(
  args: string[],
  options: T,
) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new UsageError(errorMessage(e).split("\n").join(" "));
  }
}

/** A whole number from `min` to `max`, or a {@link UsageError} naming `flag`. */
export function integerFlag(flag: string, text: string, min: number, max: number): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got "${text}"`);
  }
  return n;
}

/**
 * `--color C` as given, or a {@link UsageError}: the dashboard draws a colour it does not know
 * (lib/colors.ts `safeColor`) in a palette colour, so a typo ("bleu") would pass unseen.
 */
export function colorFlag(text: string | undefined): string | undefined {
  if (text !== undefined && safeColor(text) === null) {
    throw new UsageError(
      `--color must be a CSS colour name or #hex (red, teal, #3b82f6), got ${JSON.stringify(text)}`,
    );
  }
  return text;
}

/** `--interval MS` (default 1000) by the one rule, {@link INTERVAL_MS}. */
export function intervalFlag(text: string | undefined): number {
  return text === undefined
    ? 1000
    : integerFlag("--interval", text, INTERVAL_MS.min, INTERVAL_MS.max);
}
