/**
 * Wire protocol v1: the objects the decoder fills again frame after frame for its caller
 * (ingest), so the usual frames make none: a uniform batch's values as columns, the usual
 * single frame's Message and Sample, and each sender's template (protocol_template.ts).
 *
 * @module
 */
import type { Message, Sample } from "./protocol.ts";
import { FrameTemplates } from "./protocol_template.ts";

/**
 * A uniform batch's values as columns, reused from frame to frame (`values` grows when a
 * frame needs more room, so it may be longer than the frame): the value of `keys[j]` in
 * sample r is `values[j * rows + r]` for `r < rows` (column-major, as history_batch.ts's
 * blocks). The same numbers as the samples' `metrics`. Times stay in the samples: ingest
 * places each one on the collector's clock as it accounts its `seq` (instances.ts).
 */
export class FrameColumns {
  rows = 0;
  values = new Float64Array(1024);
  /**
   * A single-form frame's Sample, and its Message when it has {@link Message.keys} and no
   * `bye`, filled again by each decode with these columns (read them before the next one):
   * three objects less per single-sample frame on ingest's path (stop 35). While `single` is
   * the message, `values[0..keys.length)` are its values in the keys' order (rows is 1).
   */
  sample: Sample = { seq: null, ts: 0, metrics: {} };
  single: Message | null = null;
  /**
   * Each sender's usual single frame as a template of its bytes (protocol_template.ts): a
   * frame that matches one is read into {@link single} without JSON.parse.
   */
  templates: FrameTemplates = new FrameTemplates();
}
