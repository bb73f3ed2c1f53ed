/**
 * Notices the history database deleted or replaced under a running collector (`rm -rf` of the
 * data directory, a restore copied over it). SQLite goes on writing to the file it has open,
 * which no one will read again: nothing fails, nothing was logged, and all history since was
 * gone at the next start. The round (jobs.ts) asks once a second: one `stat`.
 *
 * @module
 */

/** What {@link watchDataFile} needs of a file's metadata. */
export type StatFile = (path: string) => { dev: number | null; ino: number | null };

/**
 * Watch `path` (the database, open now): the returned check answers null while it is still
 * the file opened, else what happened and what to do.
 */
export function watchDataFile(
  path: string,
  stat: StatFile = Deno.statSync,
): () => string | null {
  const opened = stat(path);
  return () => {
    let now;
    try {
      now = stat(path);
    } catch {
      return `${path} was deleted while the collector runs: history is written to a file ` +
        "no one will read; restart the collector to start a new one (history since is lost)";
    }
    if (now.ino === opened.ino && now.dev === opened.dev) return null;
    return `${path} was replaced while the collector runs: history is written to the file ` +
      "it replaced; restart the collector to use the new one (history since is lost)";
  };
}
