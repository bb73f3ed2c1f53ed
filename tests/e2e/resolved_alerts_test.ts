/// <reference lib="dom" />
/**
 * A resolved alert in real headless Chromium against a real collector fed real ZMQ frames,
 * for an instance named as a Kubernetes pod (pods of one deployment differ only at the end):
 * at 1400 px its instance reads whole (it was cut to "checkout · checkout-7f9c2d8…" in the
 * narrow resolved column); at 390 px its text takes the card's width and its times go under
 * it (they took the hidden state badge's column: the text was squeezed to a third of the
 * card and the rule ran into "resolved 09:49:05").
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { parseRules } from "../../lib/alerts/rules.ts";
import {
  assertClean,
  ensureBuiltWithCss,
  type FakeApp,
  identity,
  launchBrowser,
  openDashboard,
  startFakeApp,
  startTestCollector,
  stopAll,
  waitState,
} from "./support.ts";

const RULES = `
rules:
  - name: checkout-cpu-high
    kind: threshold
    service: checkout
    metric: cpu.percent
    op: ">"
    value: 30
    for: 1s
`;
const POD = "checkout-7f9c2d8b5-x2k9q";

/** One resolved alert as laid out, CSS px. */
interface Resolved {
  text: string;
  /** The instance's text: its full width and the width it is shown in. */
  instance: { text: string; scrollWidth: number; clientWidth: number };
  rule: { left: number; right: number; top: number; bottom: number };
  when: { left: number; top: number };
  main: { width: number };
  li: { width: number };
}

Deno.test({
  name: "a resolved alert names its instance whole and is not squeezed on a phone",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await ensureBuiltWithCss();
    const collector = await startTestCollector({ rules: parseRules(RULES, "resolved.yaml") });
    let apps: FakeApp[] = [];
    let browser: Browser | null = null;
    try {
      // Over the threshold for its first 2.5 s: the alert fires, then resolves.
      apps = [
        startFakeApp(
          collector.zmqEndpoint,
          identity("checkout", POD, null, 100),
          (s) => ({ cpu: s < 2.5 ? 50 : 10, memMiB: 100 }),
        ),
      ];
      browser = await launchBrowser();
      for (const width of [1400, 390]) {
        const w = await openDashboard(browser, `${collector.httpUrl}/`, { width, height: 900 });
        await waitState(w.page, "live");
        await w.page.waitForSelector('#alerts-recent li[data-state="resolved"] .alert-instance', {
          timeout: 20_000,
        });
        const r = await w.page.evaluate((): Resolved => {
          const li = document.querySelector<HTMLElement>(
            '#alerts-recent li[data-state="resolved"]',
          )!;
          const box = (sel: string) => li.querySelector(sel)!.getBoundingClientRect();
          const inst = li.querySelector<HTMLElement>(".alert-instance")!;
          const cs = getComputedStyle(li);
          return {
            text: li.textContent ?? "",
            instance: {
              text: inst.textContent ?? "",
              scrollWidth: inst.scrollWidth,
              clientWidth: inst.clientWidth,
            },
            rule: box(".alert-rule"),
            when: box(".alert-when"),
            main: { width: box(".alert-main").width },
            li: {
              width: li.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight),
            },
          };
        });
        const at = `${width} px: ${JSON.stringify(r)}`;
        assert.equal(r.instance.text, POD, "a pod named after its service: its name alone");
        assert.ok(r.instance.scrollWidth <= r.instance.clientWidth, `instance cut at ${at}`);
        // The rule and the times never share a line's space.
        const apart = r.rule.right <= r.when.left || r.when.top >= r.rule.bottom;
        assert.ok(apart, `rule runs into the times at ${at}`);
        if (width === 390) {
          assert.ok(r.main.width >= 0.9 * r.li.width, `text squeezed at ${at}`);
        }
        assertClean(w);
        await w.page.close();
      }
    } finally {
      await browser?.close();
      await stopAll(apps);
      await collector.stop();
    }
  },
});
