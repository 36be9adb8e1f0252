// Small DOM helpers. Everything a server sends is set as text, never parsed as HTML.

// An element of the page by id. The page's elements are there from the start: one that is
// missing is a bug, said at once rather than as "cannot read properties of null" later.
// (tests/it/architecture.rs checks each id the modules look up this way against the served page.)
// Each is looked up once and kept (a template element is never replaced; one that left the
// document is looked up again).
const resolved = new Map();

export function $(id) {
  const kept = resolved.get(id);
  if (kept?.isConnected) return kept;
  const node = document.getElementById(id);
  if (!node) throw new Error(`mcpscope: the page has no element #${id}`);
  resolved.set(id, node);
  return node;
}

// An element the modules create and remove (a timeline row, a palette option, a field of a
// paused authorization): null when it is not there now.
export const $maybe = (id) => document.getElementById(id);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// An event's time of day ("12:01:02.345") from its RFC 3339 stamp; the stamp itself otherwise.
export function clock(time) {
  const m = String(time || "").match(/T(\d\d:\d\d:\d\d(?:\.\d{1,3})?)/);
  return m ? m[1] : String(time || "");
}

// A duration for people: tenths of a second below 10 s, whole seconds above.
export function seconds(ms) {
  return ms < 10000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

export function pretty(value) {
  try { return JSON.stringify(value, null, 2); } catch { return String(value); }
}

// The exact text of the JSON value that starts at `start` in `text` (strings, escapes and
// nesting respected), so the timeline can show a frame byte for byte as it crossed the wire.
export function jsonValueAt(text, start) {
  let i = start, depth = 0, inString = false;
  for (; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') { inString = false; if (depth === 0) return text.slice(start, i + 1); }
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") { depth--; if (depth === 0) return text.slice(start, i + 1); }
    else if (depth === 0 && (c === "," )) return text.slice(start, i);
  }
  return text.slice(start, i);
}
