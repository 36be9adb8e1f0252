// The item lists (tools, resources, templates, prompts, "other") as one navigable whole: item
// buttons that show the title with the wire name beside it, one shared search that filters
// every list in place (counts say "N of M" while filtering), exactly one item marked as open
// (aria-current), ↑/↓/Home/End moving between items, and a roving tab stop so Tab leaves the
// lists in one step. Lists are filled by replacing, never appended to twice.

import { $, el } from "./dom.js";

const counts = new Map(); // list id → {countId, more: () => bool}
let current = null; // "kind:key" of the open item
let keyboardOpen = () => {};

// `f()` runs after an item is opened from the keyboard (Enter or Space on it): the next thing
// a keyboard user wants is the item's first field, not another Tab journey.
export function onKeyboardOpen(f) { keyboardOpen = f; }

export function keyOf(kind, key) { return `${kind}:${key}`; }

// One item button. `title` may equal `name`; the name is always shown in monospace.
export function button({ kind, key, title, name, desc, icon, extra, onSelect, cls = "" }) {
  const id = keyOf(kind, key);
  const b = el("button", {
    type: "button", class: `item ${cls}`.trim(), "data-item": id, tabindex: "-1",
    // A click from the keyboard has no mouse presses (detail 0).
    onclick: (ev) => { onSelect(); if (ev.detail === 0) keyboardOpen(); },
  },
  el("span", { class: "item-line" },
    icon || null,
    title && title !== name ? el("span", { class: "item-title", text: title }) : null,
    el("code", { class: "wire-name", text: name })),
  desc ? el("span", { class: "item-desc", text: desc }) : null,
  extra || null);
  b.dataset.text = `${name} ${title || ""} ${desc || ""}`.toLowerCase();
  if (id === current) b.setAttribute("aria-current", "true");
  return b;
}

// Replaces the content of list `listId` with `buttons`, then filters and counts it.
// A reload (a list_changed from the server) must not take the keyboard focus away: the row
// that had it gets it back when the item is still listed.
export function fill(listId, buttons) {
  const list = $(listId);
  const focused = list.contains(document.activeElement) ? document.activeElement.dataset.item : null;
  list.replaceChildren(...buttons.map((b) => el("li", {}, b)));
  filter();
  if (focused) buttons.find((b) => b.dataset.item === focused)?.focus();
}

// A modern list result's caching hints (`ttlMs`, `cacheScope`) beside its list's title, as the
// server sent them: a negative or missing ttlMs means 0 (do not reuse), which is said too.
export function cacheHint(kind, result) {
  const box = $(`${kind}-cache`);
  const has = result && ("ttlMs" in result || "cacheScope" in result);
  box.hidden = !has;
  if (!has) return;
  const ttl = result.ttlMs;
  const ms = Number.isFinite(ttl) && ttl > 0 ? ttl : 0;
  const span = ms === 0 ? "no reuse" : ms < 1000 ? `${ms} ms` : ms < 120000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60000)} min`;
  const scope = typeof result.cacheScope === "string" ? result.cacheScope : "";
  box.textContent = `cache: ${span}${scope ? ` · ${scope}` : ""}`;
  const raw = `ttlMs ${ttl === undefined ? "missing" : JSON.stringify(ttl)}${ms === 0 && ttl !== 0 ? " (means 0)" : ""}, cacheScope ${scope ? JSON.stringify(scope) : "missing"}`;
  box.title = `${raw}: how long the server says this list may be reused, and by whom`;
  box.setAttribute("aria-label", `cache hint: ${raw}`);
}

// A list the server failed to give, said where the list would be (with its code, and whether
// the code means anything to a client): an empty list would read as "the server has none".
// `error` null clears it.
export function listError(kind, method, error) {
  const box = $(`${kind}-error`);
  box.hidden = !error;
  if (!error) { box.textContent = ""; return; }
  const code = error.code;
  const known = Number.isInteger(code) && code >= -32768 && code <= -32000;
  box.textContent = `${method} failed: ${error.message ?? "(no message)"} (error ${JSON.stringify(code ?? null)}${known ? "" : ", not a JSON-RPC or MCP code"})`;
}

// `more()` says whether the server has further pages (shown as "+").
export function countInto(listId, countId, more = () => false) {
  counts.set(listId, { countId, more });
}

function all() {
  return [...$("item-lists").querySelectorAll("button.item")];
}

function visible() {
  return all().filter((b) => !b.closest("li").hidden);
}

export function filter() {
  const needle = $("item-search").value.trim().toLowerCase();
  const words = needle.split(/\s+/).filter(Boolean);
  for (const b of all()) {
    const li = b.closest("li");
    li.hidden = words.length > 0 && !words.every((w) => (b.dataset.text || "").includes(w));
  }
  for (const [listId, { countId, more }] of counts) {
    const items = [...$(listId).children];
    if (!items.length && !more()) { $(countId).textContent = ""; continue; }
    const shown = items.filter((li) => !li.hidden).length;
    const plus = more() ? "+" : "";
    $(countId).textContent = words.length ? `(${shown} of ${items.length}${plus})` : `(${items.length}${plus})`;
  }
  roving();
}

// Exactly one item is reachable with Tab: the open one if shown, else the first shown.
function roving() {
  const shown = visible();
  const stop = shown.find((b) => b.dataset.item === current) || shown[0];
  for (const b of all()) b.tabIndex = b === stop ? 0 : -1;
}

// Marks the open item (or none) everywhere, in place: focus stays where it is.
export function mark(kind, key) {
  current = kind ? keyOf(kind, key) : null;
  for (const b of all()) {
    if (b.dataset.item === current) b.setAttribute("aria-current", "true");
    else b.removeAttribute("aria-current");
  }
  roving();
}

export function openKey() { return current; }

// The search text, read and set (each server keeps its own: a search made for one server must
// not make the next one's lists look empty).
export function search() { return $("item-search").value; }
export function setSearch(text) {
  $("item-search").value = text;
  filter();
}

// `load` made single-flight: calls while one runs become one more run after it, so a burst of
// list_changed notifications costs two loads, not one per notification.
export function coalesced(load) {
  let running = null;
  let again = false;
  const run = async () => {
    if (running) { again = true; return running; }
    running = (async () => {
      try {
        do { again = false; await load(); } while (again);
      } finally { running = null; }
    })();
    return running;
  };
  return run;
}

export function focusSearch() {
  const s = $("item-search");
  s.focus();
  s.select();
}

export function init() {
  $("item-search").addEventListener("input", filter);
  $("item-search").addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown") { ev.preventDefault(); visible()[0]?.focus(); }
    else if (ev.key === "Escape" && $("item-search").value) { ev.preventDefault(); $("item-search").value = ""; filter(); }
  });
  // The item last focused keeps the tab stop, so Shift+Tab and Tab come back to it.
  $("item-lists").addEventListener("focusin", (ev) => {
    const b = ev.target.closest?.("button.item");
    if (b) for (const x of all()) x.tabIndex = x === b ? 0 : -1;
  });
  $("item-lists").addEventListener("keydown", (ev) => {
    const b = ev.target.closest?.("button.item");
    if (!b) return;
    const shown = visible();
    const i = shown.indexOf(b);
    let next = null;
    if (ev.key === "ArrowDown") next = shown[i + 1];
    else if (ev.key === "ArrowUp") next = i > 0 ? shown[i - 1] : null;
    else if (ev.key === "Home") next = shown[0];
    else if (ev.key === "End") next = shown[shown.length - 1];
    else return;
    ev.preventDefault();
    if (next) { next.focus(); next.scrollIntoView({ block: "nearest" }); }
    else if (ev.key === "ArrowUp") $("item-search").focus();
  });
}
