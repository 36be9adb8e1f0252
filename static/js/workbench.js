// The detail pane's bookkeeping: which item is open (one detail panel shown, its list entry
// marked, the view kept in the URL hash), and every call made from it. Each call's answer
// belongs to the item it was made from: the result appears right under the form and is scrolled
// into view, naming what was called; each item keeps a short history (show again, re-run with
// the same arguments, compare two answers line by line), kept across reloads in sessionStorage.

import { request, call, ApiError, sessionId, sessionPath } from "./api.js";
import { $, el, pretty } from "./dom.js";
import * as items from "./items.js";
import * as result from "./result.js";
import { diffLines, summary } from "./diff.js";
import * as store from "./store.js";
import * as apps from "./apps.js";

const DETAILS = { tool: "tool-detail", resource: "resource-detail", template: "template-detail", prompt: "prompt-detail", raw: "raw-detail", chat: "chat-detail" };
const MAX_HISTORY = 12;
const KEEP_CHARS = 128 * 1024; // bigger answers are not kept across a reload
const STORE = "mcpscope-history";
// This page's part of every call ref (refs are per session, and a reload is a new page).
const PAGE = crypto.randomUUID?.() ?? `${Date.now()}-${Math.random()}`;

// Each item's calls live in the store, under their session; a history key is "session|kind:key".
function historyOf(key) {
  const at = key.indexOf("|");
  return store.peek(key.slice(0, at))?.history.get(key.slice(at + 1));
}

function setHistory(key, list) {
  const at = key.indexOf("|");
  store.of(key.slice(0, at)).history.set(key.slice(at + 1), list);
}

// Every history the page holds, as [key, entries].
function histories() {
  return store.all().flatMap(([id, s]) => [...s.history].map(([item, list]) => [`${id}|${item}`, list]));
}
const openers = new Map(); // kind → (key) => bool: opens the item if the list has it
let open = null; // {kind, key}
let shownEntry = null;
let seq = 0;

function historyKey(item, session = sessionId()) {
  return item ? `${session}|${items.keyOf(item.kind, item.key)}` : null;
}

export function current() { return open; }

// Each list module says how to open one of its items by key (after a reload or a switch).
export function opener(kind, f) { openers.set(kind, f); }

// Opens "kind:key" if its list has it; false otherwise.
export function reopen(itemKey) {
  if (!itemKey) return false;
  const at = itemKey.indexOf(":");
  const f = openers.get(itemKey.slice(0, at));
  return Boolean(f && f(itemKey.slice(at + 1)));
}

// Shows the detail panel of `kind` (none: the empty state) and that item's last answer.
export function show(kind, key) {
  open = kind ? { kind, key } : null;
  for (const [k, id] of Object.entries(DETAILS)) $(id).hidden = k !== kind;
  $("work-empty").hidden = Boolean(kind);
  items.mark(kind, key);
  // Opening another item is a step Back can undo.
  writeHash(Boolean(kind));
  const h = (open && historyOf(historyKey(open))) || [];
  renderHistory(h);
  showEntry(h[0] ?? null);
}

// Focuses the open item's first field (the first argument of a tool or prompt, a template's
// first variable), else its main button: where a keyboard user goes next.
export function focusFirst() {
  const panel = open && $(DETAILS[open.kind]);
  if (!panel) return;
  const fields = [...panel.querySelectorAll("form input, form select, form textarea")]
    .filter((f) => f.id !== "raw-mode" && f.type !== "hidden" && !f.disabled && f.offsetParent !== null);
  const target = fields[0] || panel.querySelector("form button[type=submit]:not([disabled])");
  target?.focus();
}

export function timeoutMs() {
  const s = Number($("timeout-s").value);
  return Number.isFinite(s) && s > 0 ? Math.round(s * 1000) : undefined;
}

// What was called, as one line: the method and what it acted on.
function called(method, params) {
  const p = params || {};
  let text;
  if (method === "tools/call" || method === "prompts/get") text = `${method} ${p.name} ${JSON.stringify(p.arguments ?? {})}`;
  else if (method === "resources/read") text = `${method} ${p.uri}`;
  else text = `${method} ${JSON.stringify(p)}`;
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function status(body, pending) {
  if (pending) return "waiting";
  if (body?.error?.kind) return body.error.kind === "cancelled" ? "cancelled" : body.error.kind === "timeout" ? "timed out" : "local error";
  if (body?.error) return "server error";
  if (body?.result?.isError === true) return "isError";
  if (body === null) return "not kept";
  return "ok";
}

function clock(at) {
  return new Date(at).toLocaleTimeString([], { hour12: false });
}

// When a call was made: its time, or for a recorded one the frame it is in the recording.
function when(entry) {
  return entry.recorded ? `recorded #${entry.recorded.seq}` : clock(entry.at);
}

// An opened recording sends nothing: its open item shows, in the same history, the calls the
// recording holds (newest first), each with its recorded answer and no Re-run. The newest is
// returned (its arguments fill the form), or null.
export async function showRecorded(method, query) {
  const key = historyKey(open);
  const p = new URLSearchParams({ method, ...query });
  const { body } = await call("GET", sessionPath(`/recorded?${p}`));
  if (historyKey(open) !== key) return null;
  const list = (body.calls || []).slice().reverse().map((c) => ({
    n: ++seq, at: null, method, params: c.params ?? {}, body: c.answer ?? null, pending: false, ms: 0,
    recorded: { seq: c.seq, answerSeq: c.answerSeq },
  }));
  setHistory(key, list);
  renderHistory(list);
  $("history-count").textContent = list.length ? `(${list.length} recorded${body.total > list.length ? ` of ${body.total}` : ""})` : "";
  await showEntry(list[0] ?? null);
  return list[0] ?? null;
}

// Sends one request on behalf of the open item and files its answer under that item. The call
// belongs to the session, not to this page: it is filed at once as waiting, under a ref the
// backend keeps its outcome by, so a page reloaded mid-call picks the answer up (resume()).
export async function run(method, params, opts = {}) {
  const item = open || { kind: "raw", key: "request" };
  const key = historyKey(item);
  const n = ++seq;
  const entry = { n, at: Date.now(), method, params, body: undefined, pending: true, ref: `${PAGE}-${n}`, session: sessionId(), ms: 0, outputSchema: opts.outputSchema, app: opts.app };
  const started = performance.now();
  const list = historyOf(key) || [];
  list.unshift(entry);
  list.length = Math.min(list.length, MAX_HISTORY);
  setHistory(key, list);
  save();
  if (historyKey(open) === key) {
    renderHistory(list);
    showEntry(entry, true);
  }
  try {
    const { body, requestId } = await request(method, params, timeoutMs(), entry.ref);
    return settle(key, entry, body, requestId, performance.now() - started);
  } catch (e) {
    // Our connection to the backend broke (this page is being left, say), not the call.
    if (!(e instanceof ApiError)) return resume(key, entry);
    return settle(key, entry, e.body, e.body?.error?.requestId, performance.now() - started);
  }
}

// A call's answer, filed: its entry is complete, kept, and shown if its item is open. `ms` is
// the call's own duration (the backend's, for a call picked up after a reload).
async function settle(key, entry, body, requestId, ms) {
  Object.assign(entry, { body, requestId, pending: false, ms: ms ?? Date.now() - entry.at });
  save();
  const list = historyOf(key);
  if (list?.includes(entry) && historyKey(open) === key) {
    renderHistory(list);
    await showEntry(entry, true);
  }
  return body;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Waits for a call this page (or the page before a reload) made, by its ref. It asks every
// second rather than holding a request open: a browser has six connections for all its tabs.
async function resume(key, entry) {
  const path = `/api/sessions/${encodeURIComponent(entry.session)}/calls/${encodeURIComponent(entry.ref)}?wait=false`;
  for (let failures = 0; ;) {
    try {
      const { body, requestId, durationMs } = await call("GET", path);
      if (body?.running === true) { failures = 0; await sleep(1000); continue; }
      return settle(key, entry, body, requestId, durationMs);
    } catch (e) {
      if (e instanceof ApiError) return settle(key, entry, e.body, e.body?.error?.requestId, e.durationMs);
      if (++failures > 5) return undefined; // still unreachable: left waiting, resumed on the next load
      await sleep(500 * failures);
    }
  }
}

async function showEntry(entry, scroll = false) {
  shownEntry = entry;
  const box = $("result-box");
  box.hidden = !entry;
  for (const li of $("history-list").children) {
    if (Number(li.dataset.n) === entry?.n) li.setAttribute("aria-current", "true");
    else li.removeAttribute("aria-current");
  }
  if (!entry) { $("result").replaceChildren(); await apps.show($("app-box"), null); return; }
  const elapsed = entry.pending || entry.recorded ? "" : `${entry.ms.toFixed(0)} ms · `;
  const st = entry.recorded && !entry.body ? "no answer" : status(entry.body, entry.pending);
  $("result-meta").replaceChildren(
    el("span", { class: "called", text: called(entry.method, entry.params) }),
    ` · ${entry.requestId ? `request #${entry.requestId} · ` : ""}${elapsed}${when(entry)} · ${st}`);
  box.classList.toggle("is-error", !["ok", "cancelled", "waiting"].includes(st));
  if (entry.pending) {
    $("result").replaceChildren(el("p", { class: "muted", text: "Waiting for the answer. The call runs in mcpscope, not in this page: reload or switch away, it lands here when it comes." }));
  } else if (entry.recorded && !entry.body) {
    $("result").replaceChildren(el("p", { class: "muted", text: "It had no answer when it was recorded (cancelled, timed out, or the recording ended first)." }));
  } else if (entry.body === null) {
    $("result").replaceChildren(el("p", { class: "muted", text: "This answer was too big to keep across a reload; run it again to see it." }));
  } else {
    await result.render($("result"), entry.body, {
      outputSchema: entry.outputSchema, elapsedMs: entry.ms,
      onReadResource: (uri) => run("resources/read", { uri }),
    });
  }
  // A tool with a view renders it under the result, from the moment it is called.
  if (shownEntry === entry) await apps.show($("app-box"), entry);
  if (scroll && shownEntry === entry) box.scrollIntoView({ block: "nearest", behavior: "smooth" });
}

function renderHistory(list) {
  $("history-box").hidden = list.length < 1;
  $("history-count").textContent = list.length ? `(${list.length})` : "";
  $("compare-box").hidden = true;
  $("history-list").replaceChildren(...list.map((entry) => {
    const st = entry.recorded && !entry.body ? "no answer" : status(entry.body, entry.pending);
    const at = when(entry);
    const check = el("input", { type: "checkbox", class: "compare-pick", "aria-label": `Compare the call at ${at}` });
    check.addEventListener("change", compareReady);
    const li = el("li", { class: "history-entry", "data-n": entry.n },
      el("button", { type: "button", class: "small", onclick: () => showEntry(entry, true) }, `${at} · `, el("span", { class: st === "ok" ? "status-ok" : st === "cancelled" || st === "waiting" ? "" : "status-error", text: st }), entry.pending || entry.recorded ? "" : ` · ${entry.ms.toFixed(0)} ms`),
      el("span", { class: "args", text: called(entry.method, entry.params), title: called(entry.method, entry.params) }),
      entry.recorded ? "" : el("button", { type: "button", class: "small", "aria-label": `Re-run the call at ${at}`, onclick: () => run(entry.method, entry.params, { outputSchema: entry.outputSchema, app: entry.app }) }, "Re-run"),
      el("label", {}, check, "compare"));
    li.entry = entry;
    return li;
  }));
  compareReady();
}

function checked() {
  return [...$("history-list").children].filter((li) => li.querySelector(".compare-pick").checked).map((li) => li.entry);
}

function compareReady() {
  $("history-compare").disabled = checked().length !== 2;
}

function compare() {
  const [newer, older] = checked();
  if (!older) return;
  const text = (e) => (e.body === null ? "(not kept)" : pretty(e.body));
  const { lines, coarse } = diffLines(text(older), text(newer));
  const { added, removed } = summary(lines);
  const box = $("compare-box");
  box.hidden = false;
  box.replaceChildren(
    el("p", { text: `${when(older)} → ${when(newer)}: ${added} line(s) added, ${removed} removed${coarse ? " (coarse: the answers are too big for a line-by-line diff)" : ""}` }),
    el("pre", { "aria-label": "Differences" }, ...lines.map((l) => el("span", {
      class: `diff-${l.op}`, text: `${l.op === "add" ? "+ " : l.op === "del" ? "- " : "  "}${l.text}`,
    }))));
}

function save() {
  try {
    // A recording's calls are read from it again whenever its item opens.
    const kept = histories().filter(([, list]) => !list.some((e) => e.recorded)).map(([k, list]) => [k, list.map((e) => {
      const text = JSON.stringify(e.body);
      return { ...e, body: text && text.length > KEEP_CHARS ? null : e.body };
    })]);
    sessionStorage.setItem(STORE, JSON.stringify(kept));
  } catch { /* storage full: the history lives on in the page */ }
}

function load() {
  try {
    for (const [k, list] of JSON.parse(sessionStorage.getItem(STORE) || "[]")) {
      setHistory(k, list);
      for (const e of list) seq = Math.max(seq, e.n);
    }
  } catch { /* nothing kept */ }
}

let held = false;

// While the page is still bringing the URL's view up (after a load, Back or Forward), the
// steps on the way (no item yet, the lists loading) must not overwrite the URL.
export function holdHash(on) { held = on; }

// The view in the URL: which server and which item, so a reload comes back to it, and Back and
// Forward go through the servers and items opened (`opened`: an item was opened); app.js follows
// the URL when it changes.
function writeHash(opened = false) {
  if (held) return;
  const session = sessionId() || null;
  const item = open ? items.keyOf(open.kind, open.key) : null;
  // Compared by meaning: an address typed by hand spells `tool:echo` where we write `tool%3Aecho`.
  const now = readHash();
  if (now.session === session && now.item === item) return;
  const p = new URLSearchParams();
  if (session) p.set("s", session);
  if (item) p.set("i", item);
  const url = String(p) ? `#${p}` : location.pathname;
  if (location.hash && (opened || now.session !== session)) history.pushState(null, "", url);
  else history.replaceState(null, "", url);
}

export function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  return { session: p.get("s"), item: p.get("i") };
}

export function init() {
  load();
  // Calls that were still running when the page before this one went away.
  for (const [key, list] of histories()) for (const entry of list) if (entry.pending && entry.ref) resume(key, entry);
  $("history-compare").addEventListener("click", compare);
  // Ctrl/⌘+Enter anywhere in a detail form sends it; Enter in a one-line field does too.
  for (const id of Object.values(DETAILS)) {
    $(id).addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
        const form = $(id).querySelector("form.detail-form");
        if (form) { ev.preventDefault(); form.requestSubmit(); }
      }
    });
  }
}

export { writeHash };
