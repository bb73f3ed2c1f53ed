/**
 * How the page names an instance in legends and alerts. Pods of one deployment are named
 * `<service>-<hash>-<hash>` and differ only at the end, so a name that already starts with
 * its service is shown alone (not `api · api-7d9f8c-x2k4p`), and a name too long for a legend
 * chip is cut in the middle, keeping the end that tells pods apart.
 *
 * @module
 */

/** Characters a legend chip shows of a name (its 260 px at 12.5 px); longer are cut in the middle. */
export const CHIP_CHARS = 34;

/** `service · instance`, or the instance alone when it starts with `service-`, `_` or `.`. */
export function instanceName(service: string, instance: string): string {
  if (instance === service) return instance;
  const sep = instance.charAt(service.length);
  return service !== "" && instance.startsWith(service) &&
      (sep === "-" || sep === "_" || sep === ".")
    ? instance
    : `${service} · ${instance}`;
}

/** {@link instanceName} of an instance id (`encodeURIComponent` parts joined by `/`). */
export function instanceLabel(id: string, service?: string, instance?: string): string {
  if (typeof service === "string" && typeof instance === "string") {
    return instanceName(service, instance);
  }
  const i = id.indexOf("/");
  const dec = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  return i < 0 ? dec(id) : instanceName(dec(id.slice(0, i)), dec(id.slice(i + 1)));
}

/** At most `max` characters: a longer text keeps its start and its end around a "…". */
export function middleEllipsis(text: string, max: number): string {
  const chars = Array.from(text); // code points: never cut a surrogate pair
  if (chars.length <= max) return text;
  const keep = Math.max(2, max - 1);
  const head = Math.floor(keep * 0.45);
  return `${chars.slice(0, head).join("")}…${chars.slice(chars.length - (keep - head)).join("")}`;
}
