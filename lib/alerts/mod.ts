/**
 * Leak detection and alerts: rules from a YAML file (or the defaults), an engine the
 * collector feeds and ticks, alert state in SQLite, and webhooks. See docs/alerts.md.
 *
 * @module
 */
export {
  type AlertEngine,
  type AlertEngineOptions,
  type AlertList,
  type AlertStats,
  createAlertEngine,
  describeLeak,
  leakHolds,
  LIMIT_METRIC,
  type Point,
  RSS_METRIC,
} from "./engine.ts";
export { LeakDetector, type LeakEstimate, type LeakOptions, MB, theilSen } from "./leak.ts";
export {
  DEFAULT_RULES,
  defaultRuleSet,
  loadRules,
  parseDuration,
  parseRate,
  parseRules,
  parseSize,
  type Rule,
  RulesError,
  type RuleSet,
  type WebhookTarget,
} from "./rules.ts";
export {
  createNotifier,
  jsonPayload,
  type Notifier,
  type NotifyStats,
  slackPayload,
  type WebhookPayload,
} from "./notify.ts";
export { type AlertStore, openAlertStore } from "./store.ts";
export type { Alert, AlertLeak, AlertState, LeakSite } from "./types.ts";
