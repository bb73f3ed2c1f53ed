/**
 * One way to turn anything thrown into a line of text: `errorMessage(e)`. JavaScript may
 * throw any value, so `(e as Error).message` is `undefined` for a thrown string or object.
 *
 * @module
 */

/** The message of an Error, or the thrown value itself as text. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === "string") return e;
  try {
    return String(e);
  } catch {
    return "unknown error"; // an object whose toString throws
  }
}
