import assert from "node:assert/strict";
import { errorMessage } from "../../lib/errors.ts";

Deno.test("errorMessage gives an Error's message, a thrown string, or any value as text", () => {
  assert.equal(errorMessage(new Error("boom")), "boom");
  assert.equal(errorMessage("plain"), "plain");
  assert.equal(errorMessage(42), "42");
  assert.equal(
    errorMessage({
      toString: () => {
        throw new Error("no");
      },
    }),
    "unknown error",
  );
});

Deno.test("errorMessage adds the reason a real failed fetch keeps in its cause, never its URL", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close(); // nothing listens there now: the connection is refused
  const e = await fetch(`http://user:s3cret@127.0.0.1:${port}/api/v1/write`).catch((e) => e);
  const text = errorMessage(e);
  assert.match(text, /^fetch failed \(.*refused.*\)$/i);
  assert.ok(!text.includes("s3cret") && !text.includes(String(port)), text);
  // A cause its error already names is not said twice.
  assert.equal(errorMessage(new Error("x: gone", { cause: new Error("y: gone") })), "x: gone");
});
