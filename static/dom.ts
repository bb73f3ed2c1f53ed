/// <reference lib="dom" />
/**
 * Tiny DOM helpers. Data only ever reaches the page through `textContent`, never through
 * HTML parsing, so a service called `<img src=x onerror=alert(1)>` is shown as text.
 *
 * @module
 */

/** Create an element with classes and optional text. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = "",
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Set text only when it changed (cheap repeated refreshes). */
export function setText(node: Node, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

/** The element with this id, or an error naming it. */
export function byId<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing #${id}`);
  return node as T;
}
