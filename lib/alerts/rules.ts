/**
 * Alert rules: the YAML file people write by hand (`--rules FILE`), parsed and validated
 * once at start, and the built-in defaults used when there is no file. Every error names
 * the file, line and column and the rule, and all errors are reported at once:
 *
 *     rules.yaml:7:10: rule "cpu": "for" must be a duration like 1m, got "ten"
 *
 * The format is documented in docs/alerts.md.
 *
 * @module
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type YAMLMap } from "yaml";
import { parseDuration, parseRate, parseSize } from "./units.ts";
import type { RuleKind } from "../model/alert.ts";
import { errorMessage } from "../errors.ts";
import { DEFAULT_RULES, DEFAULT_WARMUP_BYTES } from "./default_rules.ts";

export { DEFAULT_LEAK_RULE, DEFAULT_RULES, DEFAULT_WARMUP_BYTES } from "./default_rules.ts";

export { parseDuration, parseRate, parseSize };

/** Comparison of a threshold rule. */
export type Op = ">" | ">=" | "<" | "<=" | "==" | "!=";
const OPS: Record<Op, (a: number, b: number) => boolean> = {
  ">": (a, b) => a > b,
  ">=": (a, b) => a >= b,
  "<": (a, b) => a < b,
  "<=": (a, b) => a <= b,
  "==": (a, b) => a === b,
  "!=": (a, b) => a !== b,
};

/** Apply a rule's comparison. */
export function compare(op: Op, a: number, b: number): boolean {
  return OPS[op](a, b);
}

/** What every rule has. */
export interface RuleBase {
  name: string;
  /** Selectors: exact names or globs with `*`; absent matches every service / instance. */
  service?: string;
  instance?: string;
  /** How long the condition must hold before the alert fires, ms (pending until then). */
  forMs: number;
  /** How long a firing alert stays firing after its condition clears, ms (damps flapping). */
  keepFiringForMs: number;
  /** Where the rule was written (`rules.yaml:7`), or "default". */
  origin: string;
}

/** A metric compared with a value: `cpu.percent > 90 for 5m`. */
export interface ThresholdRule extends RuleBase {
  kind: "threshold";
  metric: string;
  op: Op;
  value: number;
}

/**
 * An instance silent for `forMs` (pending from the moment it goes stale) that did not say
 * goodbye; resolved when it reports again or is gone (60 missed intervals).
 */
export interface AbsenceRule extends RuleBase {
  kind: "absence";
}

/** Memory growing: faster than a rate, and/or reaching the limit within a time. */
export interface LeakRule extends RuleBase {
  kind: "leak";
  /** Fire when the trend grows at least this fast, MB (10^6 bytes) per hour. */
  growthMbPerHour?: number;
  /** Fire when the limit is reached within this time, ms (needs a known limit). */
  withinMs?: number;
  /** Least confidence of the trend, 0..1. */
  minConfidence: number;
  /** Memory limit in bytes when the container reports none. */
  limitBytes?: number;
  /**
   * Growth a young process may make before it counts as a leak, bytes: while the detector
   * holds less than a full window (30 min since start or restart), the trend must have risen
   * by more than this (a warm-up: JIT, caches, histograms). Default {@link DEFAULT_WARMUP_BYTES}.
   */
  warmupBytes: number;
}

/** One alert rule. */
export type Rule = ThresholdRule | AbsenceRule | LeakRule;
/** The kinds of rule (named in lib/model/alert.ts; this checks that both agree). */
export type { RuleKind };
const _kindsAgree: [RuleKind, Rule["kind"]] extends [Rule["kind"], RuleKind] ? true : never = true;

/** Where notifications go. */
export interface WebhookTarget {
  url: string;
  /** `json` (the documented payload) or `slack` (`{ text, blocks }`). */
  format: "json" | "slack";
  headers: Record<string, string>;
}

/** A validated rule file. */
export interface RuleSet {
  rules: Rule[];
  webhooks: WebhookTarget[];
  /** The file it came from, or "defaults". */
  source: string;
}

/** A rule file that does not validate; `errors` holds every problem, one per line. */
export class RulesError extends Error {
  constructor(readonly errors: string[]) {
    super(errors.join("\n"));
  }
}

/** The default rule set. */
export function defaultRuleSet(): RuleSet {
  return { rules: [...DEFAULT_RULES], webhooks: [], source: "defaults" };
}

/** Read and validate a rule file; throws {@link RulesError} naming every problem. */
export async function loadRules(path: string): Promise<RuleSet> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new RulesError([`${path}: cannot read rules: ${errorMessage(e)}`]);
  }
  return parseRules(text, path);
}

const COMMON = ["name", "kind", "service", "instance", "for", "keep_firing_for"];
const KEYS: Record<RuleKind, string[]> = {
  threshold: [...COMMON, "metric", "op", "value"],
  absence: [...COMMON],
  leak: [...COMMON, "growth", "within", "confidence", "limit", "warmup"],
};
const DEFAULT_FOR: Record<RuleKind, number> = { threshold: 0, absence: 30_000, leak: 10_000 };
const DEFAULT_KEEP: Record<RuleKind, number> = { threshold: 0, absence: 0, leak: 2 * 60_000 };

/**
 * Errors by their place in the file (`FILE:LINE:COL: ...`), as an editor goes through them: a
 * rule's checks run in their own order, so a value on line 6 was told after a duration on
 * line 7. Errors without a place keep their order, first.
 */
function inFileOrder(errors: string[], file: string): string[] {
  const place = (e: string) => {
    const m = /^(\d+):(\d+): /.exec(e.slice(file.length + 1));
    return e.startsWith(`${file}:`) && m ? Number(m[1]) * 1e6 + Number(m[2]) : -1;
  };
  return errors.map((e, i) => ({ e, i, p: place(e) }))
    .sort((a, b) => a.p - b.p || a.i - b.i)
    .map((x) => x.e);
}

/**
 * Parse and validate a rule file's text. `file` names it in errors. Throws
 * {@link RulesError} with every problem found.
 */
export function parseRules(text: string, file = "rules.yaml"): RuleSet {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const errors: string[] = [];
  const at = (node: unknown) => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    if (!range) return `${file}`;
    const { line, col } = lc.linePos(range[0]);
    return `${file}:${line}:${col}`;
  };
  for (const e of doc.errors) {
    const { line, col } = lc.linePos(e.pos[0]);
    errors.push(
      `${file}:${line}:${col}: ${
        e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "")
      }`,
    );
  }
  if (errors.length > 0) throw new RulesError(errors);
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) {
    throw new RulesError([`${file}:1:1: the file is empty; write "rules:" with a list of rules`]);
  }
  if (!isMap(root)) throw new RulesError([`${at(root)}: the file must be a map with "rules:"`]);
  const seen = new Set<string>();
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : "";
    if (key !== "rules" && key !== "webhooks") {
      errors.push(
        `${at(pair.key)}: unknown top-level key "${key}" (expected "rules" or "webhooks")`,
      );
    }
  }
  const rulesNode = root.get("rules", true);
  const rules: Rule[] = [];
  if (rulesNode === undefined) errors.push(`${at(root)}: "rules" is missing`);
  else if (!isSeq(rulesNode)) errors.push(`${at(rulesNode)}: "rules" must be a list`);
  else {
    rulesNode.items.forEach((item, i) => {
      const rule = parseRule(item, i, at, errors);
      if (!rule) return;
      if (seen.has(rule.name)) {
        errors.push(`${at(item)}: rule "${rule.name}": the name is used twice`);
      }
      seen.add(rule.name);
      rules.push(rule);
    });
  }
  const webhooks: WebhookTarget[] = [];
  const hooksNode = root.get("webhooks", true);
  if (hooksNode !== undefined && !(isScalar(hooksNode) && hooksNode.value === null)) {
    if (!isSeq(hooksNode)) errors.push(`${at(hooksNode)}: "webhooks" must be a list`);
    else {
      for (const item of hooksNode.items) {
        const hook = parseWebhook(item, at, errors);
        if (hook) webhooks.push(hook);
      }
    }
  }
  if (errors.length > 0) throw new RulesError(inFileOrder(errors, file));
  return { rules, webhooks, source: file };
}

type At = (node: unknown) => string;

function parseRule(item: unknown, index: number, at: At, errors: string[]): Rule | null {
  if (!isMap(item)) {
    errors.push(`${at(item)}: rule ${index + 1} must be a map with "name:" and "kind:"`);
    return null;
  }
  const map = item as YAMLMap;
  const nameNode = map.get("name", true);
  const nameOk = isScalar(nameNode) && typeof nameNode.value === "string" &&
    /^[A-Za-z0-9_.:-]{1,64}$/.test(nameNode.value);
  const label = nameOk ? `rule "${nameNode.value}"` : `rule ${index + 1}`;
  const fail = (node: unknown, msg: string) => {
    errors.push(`${at(node ?? map)}: ${label}: ${msg}`);
  };
  if (!nameOk) {
    fail(
      nameNode,
      nameNode === undefined
        ? `"name" is missing`
        : `"name" must be 1-64 letters, digits, "_", ".", ":" or "-", got ${show(nameNode)}`,
    );
  }
  const kindNode = map.get("kind", true);
  const kind = isScalar(kindNode) ? String(kindNode.value) : "";
  if (!(kind in KEYS)) {
    fail(
      kindNode,
      kindNode === undefined
        ? `"kind" is missing (threshold, absence or leak)`
        : `"kind" must be threshold, absence or leak, got ${show(kindNode)}`,
    );
    return null;
  }
  const k = kind as RuleKind;
  for (const pair of map.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    if (!KEYS[k].includes(key)) {
      fail(
        pair.key,
        `unknown key "${key}" for ${k === "absence" ? "an" : "a"} ${k} rule (expected ${
          KEYS[k].join(", ")
        })`,
      );
    }
  }
  const before = errors.length;
  const str = (key: string): string | undefined => {
    const node = map.get(key, true);
    if (node === undefined) return undefined;
    if (isScalar(node) && (typeof node.value === "string" || typeof node.value === "number")) {
      return String(node.value);
    }
    fail(node, `"${key}" must be a string, got ${show(node)}`);
    return undefined;
  };
  const parsed = <T>(key: string, parse: (s: string) => T | null, like: string): T | undefined => {
    const node = map.get(key, true);
    if (node === undefined) return undefined;
    const text = isScalar(node) ? String(node.value) : "";
    const v = isScalar(node) ? parse(text) : null;
    if (v === null) fail(node, `"${key}" must be ${like}, got ${show(node)}`);
    return v ?? undefined;
  };
  const base: RuleBase = {
    name: nameOk ? String(nameNode.value) : `rule-${index + 1}`,
    forMs: parsed("for", parseDuration, "a duration like 1m") ?? DEFAULT_FOR[k],
    keepFiringForMs: parsed("keep_firing_for", parseDuration, "a duration like 5m") ??
      DEFAULT_KEEP[k],
    origin: at(map).replace(/:\d+$/, ""),
  };
  const service = str("service");
  const instance = str("instance");
  if (service !== undefined) base.service = service;
  if (instance !== undefined) base.instance = instance;
  let rule: Rule;
  if (k === "threshold") {
    const metric = str("metric");
    if (metric === undefined && map.get("metric", true) === undefined) {
      fail(map, `"metric" is missing (e.g. metric: cpu.percent)`);
    }
    const opNode = map.get("op", true);
    const op = isScalar(opNode) ? String(opNode.value) : "";
    if (!(op in OPS)) {
      fail(
        opNode,
        opNode === undefined
          ? `"op" is missing (one of > >= < <= == !=; quote it: op: ">")`
          : `"op" must be one of > >= < <= == !=, got ${show(opNode)}`,
      );
    }
    const valueNode = map.get("value", true);
    const value = isScalar(valueNode) ? valueNode.value : undefined;
    if (typeof value !== "number" || !Number.isFinite(value)) {
      fail(
        valueNode,
        valueNode === undefined
          ? `"value" is missing`
          : `"value" must be a number, got ${show(valueNode)}`,
      );
    }
    rule = { ...base, kind: k, metric: metric ?? "", op: op as Op, value: Number(value) };
  } else if (k === "absence") {
    rule = { ...base, kind: k };
  } else {
    const growth = parsed("growth", parseRate, "a rate like 50MB/h");
    const within = parsed("within", parseDuration, "a duration like 6h");
    const limit = parsed("limit", parseSize, "a size like 512MiB");
    const warmup = parsed("warmup", parseSize, "a size like 16MiB");
    const conf = map.get("confidence", true);
    let minConfidence = 0.95;
    if (conf !== undefined) {
      const c = isScalar(conf) ? conf.value : undefined;
      if (typeof c !== "number" || !(c > 0 && c < 1)) {
        fail(
          conf,
          `"confidence" must be a number above 0 and below 1 (e.g. 0.95), got ${show(conf)}`,
        );
      } else minConfidence = c;
    }
    if (growth === undefined && within === undefined && errors.length === before) {
      fail(map, `a leak rule needs "growth" (e.g. 50MB/h), "within" (e.g. 6h) or both`);
    }
    rule = { ...base, kind: k, minConfidence, warmupBytes: warmup ?? DEFAULT_WARMUP_BYTES };
    if (growth !== undefined) rule.growthMbPerHour = growth;
    if (within !== undefined) rule.withinMs = within;
    if (limit !== undefined) rule.limitBytes = limit;
  }
  return errors.length === before ? rule : null;
}

function parseWebhook(item: unknown, at: At, errors: string[]): WebhookTarget | null {
  const fail = (node: unknown, msg: string) => {
    errors.push(`${at(node ?? item)}: webhook: ${msg}`);
    return null;
  };
  if (!isMap(item)) return fail(item, `each webhook must be a map with "url:"`);
  for (const pair of item.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : "";
    if (!["url", "format", "headers"].includes(key)) {
      fail(pair.key, `unknown key "${key}" (expected url, format, headers)`);
    }
  }
  const urlNode = item.get("url", true);
  const url = isScalar(urlNode) ? String(urlNode.value) : "";
  let ok = true;
  try {
    if (!/^https?:$/.test(new URL(url).protocol)) throw new Error();
  } catch {
    ok = !!fail(urlNode, `"url" must be an http:// or https:// URL, got ${show(urlNode)}`);
  }
  const formatNode = item.get("format", true);
  const format = formatNode === undefined
    ? "json"
    : isScalar(formatNode)
    ? String(formatNode.value)
    : "";
  if (format !== "json" && format !== "slack") {
    ok = !!fail(formatNode, `"format" must be json or slack, got ${show(formatNode)}`);
  }
  const headers: Record<string, string> = {};
  const headersNode = item.get("headers", true);
  if (headersNode !== undefined) {
    if (!isMap(headersNode)) ok = !!fail(headersNode, `"headers" must be a map of strings`);
    else {
      for (const pair of headersNode.items) {
        if (!isScalar(pair.key) || !isScalar(pair.value)) {
          ok = !!fail(pair.key, `"headers" must be a map of strings`);
        } else headers[String(pair.key.value)] = String(pair.value.value);
      }
    }
  }
  return ok ? { url, format: format as "json" | "slack", headers } : null;
}

/** A node's source text for an error message, quoted and cut short. */
function show(node: unknown): string {
  if (node === undefined || node === null) return "nothing";
  if (isScalar(node)) {
    const v = node.value;
    const text = v === null ? "nothing" : typeof v === "string" ? `"${v}"` : String(v);
    return text.length > 60 ? text.slice(0, 57) + "..." : text;
  }
  return isMap(node) ? "a map" : isSeq(node) ? "a list" : String(node);
}

/** Whether `pattern` (exact, or a glob with `*`) matches `value`; absent matches all. */
export function selects(pattern: string | undefined, value: string): boolean {
  if (pattern === undefined || pattern === "*") return true;
  if (!pattern.includes("*")) return pattern === value;
  const re = new RegExp(
    "^" + pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*") + "$",
  );
  return re.test(value);
}

/** Whether a rule applies to an instance. */
export function ruleSelects(rule: Rule, service: string, instance: string): boolean {
  return selects(rule.service, service) && selects(rule.instance, instance);
}
