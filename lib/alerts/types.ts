/**
 * The alert's shapes, as lib/model/alert.ts defines them for every layer.
 *
 * @module
 */
export type { Alert, AlertLeak, AlertState, LeakSite } from "../model/alert.ts";
