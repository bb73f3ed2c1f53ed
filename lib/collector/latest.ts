/**
 * An instance's latest values (its view's `latest`, what the instance list, hellos and
 * federation show): each sample's values written over the last ones, new names up to a bound.
 *
 * @module
 */
import type { InstanceView } from "../model/instance.ts";

/** What {@link setLatest} keeps of an instance (instances.ts's state holds these fields). */
export interface LatestOf {
  view: InstanceView;
  /** Names in `view.latest` (at most the bound). */
  latestNames: number;
  /** Message.keys whose names are all in `view.latest` (see {@link setLatest}). */
  latestKeys?: readonly string[];
}

/**
 * A sample's values as the instance's latest, new names up to `maxLatest`. `keys`, when
 * given, are the sample's keys (Message.keys): once a frame with the same keys array (the
 * decoder hands the same one out for frames of the same shape) found every name listed, the
 * names are not looked up again.
 */
export function setLatest(
  state: LatestOf,
  metrics: Record<string, number>,
  maxLatest: number,
  keys?: readonly string[],
): void {
  const latest = state.view.latest;
  if (keys !== undefined && keys === state.latestKeys) {
    for (let i = 0; i < keys.length; i++) latest[keys[i]] = metrics[keys[i]];
    return;
  }
  let all = true;
  for (const name in metrics) {
    if (admits(state, name, maxLatest)) latest[name] = metrics[name];
    else all = false;
  }
  state.latestKeys = all ? keys : undefined;
}

/** Whether `name` is in the instance's latest or may join it (a new name counted), up to the bound. */
function admits(state: LatestOf, name: string, maxLatest: number): boolean {
  // Never undefined when listed (values are numbers), and metric keys are never keys of
  // Object.prototype (the decoder refuses them): a load tells what Object.hasOwn did.
  if (state.view.latest[name] !== undefined) return true;
  if (state.latestNames >= maxLatest) return false;
  state.latestNames++;
  return true;
}

/**
 * {@link setLatest} from a row of columns: the value of `keys[j]` is `values[at + j * stride]`
 * (no object per sample; ingest's held single frames, staged.ts).
 */
export function setLatestRow(
  state: LatestOf,
  maxLatest: number,
  keys: readonly string[],
  values: Float64Array,
  at: number,
  stride: number,
): void {
  const latest = state.view.latest;
  if (keys === state.latestKeys) {
    for (let j = 0; j < keys.length; j++) latest[keys[j]] = values[at + j * stride];
    return;
  }
  let all = true;
  for (let j = 0; j < keys.length; j++) {
    if (admits(state, keys[j], maxLatest)) latest[keys[j]] = values[at + j * stride];
    else all = false;
  }
  state.latestKeys = all ? keys : undefined;
}
