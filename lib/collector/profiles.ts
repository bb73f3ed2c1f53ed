/**
 * Heap profiles per instance: the latest few a known instance sent (lib/protocol_profile.ts),
 * kept in SQLite (`profiles.db` in the data directory, or in memory without one) for as
 * long as the instance's raw history, and the newest one in memory for the alert engine,
 * which puts its top sites on a leak alert (`leak.sites`). A profile from an instance the
 * collector does not know, or sooner than `minGapMs` after the last one, is refused and
 * counted: a hostile sender cannot grow the store.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import type { HeapProfile, HeapSite } from "../protocol_profile.ts";
import type { LeakSite } from "../alerts/types.ts";
import { errorMessage } from "../errors.ts";

/** A stored profile: what the agent sent, with the instance id and the arrival time. */
export interface StoredProfile extends HeapProfile {
  /** Instance id, as in /api/instances. */
  id: string;
  /** Collector clock when it arrived. */
  received: number;
}

/** Counters for `/api/stats`. */
export interface ProfileStats {
  received: number;
  refused: number;
}

/** Options for {@link openProfileStore}. */
export interface ProfileStoreOptions {
  /** Data directory, or null for memory only. */
  dir: string | null;
  now: () => number;
  /** Profiles kept per instance (default 5). */
  keep?: number;
  /** Least time between two accepted profiles of one instance, ms (default 60 s). */
  minGapMs?: number;
  /** How long profiles are kept, ms (the raw history retention; default 3 days). */
  retentionMs?: number;
}

/** The store. */
export interface ProfileStore {
  /** Keep one decoded profile of instance `id`; a reason when refused. */
  put(id: string, p: HeapProfile): { ok: true } | { ok: false; reason: string };
  /** An instance's profiles, newest first. */
  list(id: string): StoredProfile[];
  /** The newest profile of every instance that has one. */
  latest(): StoredProfile[];
  /**
   * The top `n` growing sites of an instance's newest profile (for `leak.sites`), if it
   * arrived at or after `since` (the process's start: an earlier process's sites are not this
   * one's).
   */
  sites(id: string, n?: number, since?: number): LeakSite[] | undefined;
  /** Drop profiles past retention and of instances no longer known. */
  prune(known: ReadonlySet<string>): void;
  stats(): ProfileStats;
  /** Count a frame refused before it reached the store (decode errors). */
  refused(): void;
  close(): void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS heap_profiles(
  instance TEXT NOT NULL, received INTEGER NOT NULL, data TEXT NOT NULL,
  PRIMARY KEY (instance, received)
) WITHOUT ROWID;
`;

/** Open (or create) the store. */
export function openProfileStore(opts: ProfileStoreOptions): ProfileStore {
  const keep = opts.keep ?? 5;
  const minGapMs = opts.minGapMs ?? 60_000;
  const retentionMs = opts.retentionMs ?? 3 * 86_400_000;
  const path = opts.dir === null ? ":memory:" : `${opts.dir}/profiles.db`;
  let db: DatabaseSync;
  try {
    if (opts.dir !== null) Deno.mkdirSync(opts.dir, { recursive: true });
    db = new DatabaseSync(path);
    if (opts.dir !== null) db.exec("PRAGMA journal_mode=WAL");
    db.exec(SCHEMA);
  } catch (e) {
    throw new Error(`cannot open profile store ${path}: ${errorMessage(e)}`);
  }
  const insert = db.prepare("INSERT OR REPLACE INTO heap_profiles VALUES (?, ?, ?)");
  const byInstance = db.prepare(
    "SELECT data FROM heap_profiles WHERE instance = ? ORDER BY received DESC LIMIT ?",
  );
  const trim = db.prepare(
    `DELETE FROM heap_profiles WHERE instance = ? AND received NOT IN
       (SELECT received FROM heap_profiles WHERE instance = ? ORDER BY received DESC LIMIT ?)`,
  );
  const expire = db.prepare("DELETE FROM heap_profiles WHERE received < ?");
  const instancesOf = db.prepare("SELECT DISTINCT instance FROM heap_profiles");
  const forget = db.prepare("DELETE FROM heap_profiles WHERE instance = ?");
  const parse = (rows: unknown[]) =>
    (rows as Array<{ data: string }>).flatMap((r) => {
      try {
        return [JSON.parse(r.data) as StoredProfile];
      } catch {
        return [];
      }
    });
  // The newest per instance, in memory: the alert engine asks every second.
  const newest = new Map<string, StoredProfile>();
  for (const { instance } of instancesOf.all() as Array<{ instance: string }>) {
    const [p] = parse(byInstance.all(instance, 1));
    if (p) newest.set(instance, p);
  }
  const counts: ProfileStats = { received: 0, refused: 0 };
  let closed = false;

  return {
    put(id, p) {
      const t = opts.now();
      const last = newest.get(id);
      if (last && t - last.received < minGapMs) {
        counts.refused++;
        return { ok: false, reason: `${id} sent a profile ${t - last.received} ms after the last` };
      }
      const stored: StoredProfile = { ...p, id, received: t };
      insert.run(id, t, JSON.stringify(stored));
      trim.run(id, id, keep);
      newest.set(id, stored);
      counts.received++;
      return { ok: true };
    },
    list: (id) => parse(byInstance.all(id, keep)),
    latest: () => [...newest.values()],
    sites(id, n = 3, since = -Infinity) {
      const p = newest.get(id);
      return p && p.received >= since ? leakSites(p, n) : undefined;
    },
    prune(known) {
      expire.run(opts.now() - retentionMs);
      for (const [id, p] of newest) {
        if (!known.has(id)) {
          forget.run(id);
          newest.delete(id);
        } else if (p.received < opts.now() - retentionMs) newest.delete(id);
      }
    },
    stats: () => ({ ...counts }),
    refused() {
      counts.refused++;
    },
    close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}

/** Below this share of the growth a site after the top one is noise ("0 %" lines): left out. */
export const MIN_SITE_SHARE = 0.01;

/** The top `n` sites that grew, as a leak alert carries them. */
export function leakSites(p: HeapProfile, n: number): LeakSite[] {
  const perMin = p.spanMs > 0 ? 60_000 / p.spanMs : 0;
  const total = p.totalGrowth > 0 ? p.totalGrowth : 0;
  return p.sites
    .filter((s: HeapSite) => s.growth > 0)
    .filter((s, i) => i === 0 || total === 0 || s.growth / total >= MIN_SITE_SHARE)
    .slice(0, n)
    .map((s) => ({
      fn: s.fn,
      url: s.url,
      line: s.line,
      col: s.col,
      bytes: s.bytes,
      bytesPerMin: Math.round(s.growth * perMin),
      share: total > 0 ? Math.round(Math.min(1, s.growth / total) * 1000) / 1000 : 0,
    }));
}
