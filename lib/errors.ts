/**
 * One way to turn anything thrown into a line of text: `errorMessage(e)`. JavaScript may
 * throw any value, so `(e as Error).message` is `undefined` for a thrown string or object.
 *
 * @module
 */

/**
 * The message of an Error, or the thrown value itself as text. An Error's cause adds its last
 * clause: Deno's fetch says only "fetch failed", and its cause ends with the reason
 * ("Connection refused (os error 111)"); the cause's start names the URL, credentials and all,
 * so it is left out.
 */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) {
    const cause = e.cause instanceof Error ? e.cause.message.split(": ").at(-1)!.trim() : "";
    return cause && !e.message.includes(cause) ? `${e.message} (${cause})` : e.message;
  }
  if (typeof e === "string") return e;
  try {
    return String(e);
  } catch {
    return "unknown error"; // an object whose toString throws
  }
}
