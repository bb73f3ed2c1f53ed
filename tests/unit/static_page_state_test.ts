import assert from "node:assert/strict";
import { PageState } from "../../static/page_state.ts";
import { defaultState, parseHash } from "../../static/url_state.ts";

Deno.test("PageState.isHidden: hidden by the user, or outside the focused service", () => {
  const s = new PageState({ ...defaultState(), hidden: ["api/b"] }, 60_000);
  assert.equal(s.focus, null);
  assert.equal(s.isHidden("api/a", "api"), false);
  assert.equal(s.isHidden("api/b", "api"), true);
  s.focus = "worker";
  assert.equal(s.isHidden("api/a", "api"), true);
  assert.equal(s.isHidden("worker/w", "worker"), false);
  assert.equal(s.isHidden("new/1", undefined), true, "not known yet: not the focused service");
  s.focus = null;
  assert.equal(s.isHidden("api/a", "api"), false, "widening again shows it");
  assert.equal(s.isHidden("api/b", "api"), true, "and keeps what the user hid");
});

Deno.test("PageState takes the focus from the link and writes it back", () => {
  const s = new PageState(parseHash("#view=live&service=billing&hide=billing%2F2"), 60_000);
  assert.equal(s.focus, "billing");
  assert.deepEqual(s.toUrl("1h", null), {
    view: "live",
    range: "1h",
    abs: null,
    service: "billing",
    hidden: ["billing/2"],
  });
  s.focus = null;
  assert.equal("service" in s.toUrl("1h", null), false);
});
