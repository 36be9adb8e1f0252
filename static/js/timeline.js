// The live timeline: every event from /api/events kept in the page (bounded) and drawn as a
// virtual list, so only the rows on screen exist in the DOM however many events there are.
// Rows are fixed-height; a click (or Enter) opens the exchange view beside the list
// (exchange.js). Filters (kind, server, method, text) apply to the whole history at once; the
// list follows new rows while it is scrolled to the bottom, else offers "jump to latest".

import { sessionId } from "./api.js";
import { $, $maybe, el, clock } from "./dom.js";
import { nameOf } from "./servers.js";
import * as dock from "./dock.js";
import * as exchange from "./exchange.js";

const MAX_ENTRIES = 200_000;
const MAX_PAIRS = 5000;
const OVERSCAN = 8;
let rowHeight = 22;

let entries = []; // in seq order: {event, raw, kind, text, method, session, seq, answer, pairSeq}
let shown = []; // the entries that pass the filters
const asked = new Map(); // "session:direction:id" of a request → its entry, until answered
let queue = [];
let scheduled = false;
let activeSeq = null; // keyboard position
let openSeq = null; // the row whose exchange is shown

function kindClass(event) {
  if (event.kind === "auth") return "http"; // the flow's steps sit with its requests
  return ["frame", "stderr", "finding", "progress", "http", "app"].includes(event.kind) ? event.kind : "other";
}

// A row's session in the all-servers view: the id first, as it is short and tells two builds of
// one server apart when their names are cut.
function sessionTag(id) {
  const name = nameOf(id);
  return el("span", { class: "session-tag", text: name === id ? id : `${id} · ${name}`, title: `${name} (session ${id})` });
}

function answeredBy(by) {
  switch (by.responder) {
    case "mock": return by.rule === "default" ? "mocked: default answer" : `mocked: rule ${by.rule}${by.name ? ` "${by.name}"` : ""} /${by.match}/`;
    case "manual": return "answered by hand";
    case "roots": return "from the roots list";
    case "llm": return `answered by ${by.model ?? "a model"}${by.usage ? ` (${by.usage.inputTokens}→${by.usage.outputTokens} tokens)` : ""}`;
    case "capabilities": return "refused: not declared";
    default: return String(by.responder);
  }
}

function httpSummary(e) {
  // An authorization flow talks to other hosts: its requests show the whole URL and their phase.
  const path = e.phase ? `[${e.phase.startsWith("model ") ? e.phase : `oauth ${e.phase}`}] ${e.url}` : (() => { try { const u = new URL(e.url); return u.pathname + u.search; } catch { return e.url || ""; } })();
  const carries = e.carries?.method ? ` [${e.carries.method}${e.carries.id !== null && e.carries.id !== undefined ? ` #${e.carries.id}` : ""}]` : "";
  switch (e.type) {
    case "exchange": {
      const ctype = e.responseHeaders?.["content-type"] ? ` (${String(e.responseHeaders["content-type"]).split(";")[0]})` : "";
      const ms = typeof e.durationMs === "number" ? ` ${e.durationMs.toFixed(1)} ms` : "";
      return `${e.method} ${path} → ${e.status}${ctype}${ms}${carries}`;
    }
    case "stream-closed":
      return `${e.method} ${path} SSE stream closed after ${e.events} event(s)${e.lastEventId ? `, last id ${e.lastEventId}` : ""}${e.error ? `: ${e.error}` : ""}`;
    case "error": return `${e.method} ${path} failed: ${e.error}${carries}`;
    case "note": return e.message;
    default: return e.type || "http";
  }
}

function excerpt(v, n = 120) {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  if (s === undefined) return "";
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

// What a frame is about, beyond its method: a log line's level and text, a call's tool.
function frameGist(event) {
  const p = event.message?.params;
  if (!p || typeof p !== "object") return "";
  if (event.method === "notifications/message") return `[${p.level ?? "?"}]${p.logger !== undefined ? ` ${p.logger}:` : ""} ${excerpt(p.data)}`;
  if (event.method === "tools/call" || event.method === "prompts/get") return typeof p.name === "string" ? p.name : "";
  if (typeof p.uri === "string") return p.uri;
  return "";
}

// A bridge message of an MCP App: which way, what, and for which tool call.
function appSummary(e) {
  const m = e.message || {};
  const parts = [e.direction === "to-app" ? "⇢ app" : "⇠ app"];
  if (typeof m.method === "string") parts.push(m.id !== undefined ? "request" : "notification", m.method);
  else if (m.error) parts.push("error", excerpt(m.error.message ?? m.error, 80));
  else if (m.result !== undefined) parts.push("response");
  if (m.id !== undefined) parts.push(`#${JSON.stringify(m.id)}`);
  if (m.method === "tools/call" && typeof m.params?.name === "string") parts.push(m.params.name);
  if (m.method === "ui/notifications/size-changed") parts.push(excerpt(m.params, 60));
  parts.push(`· view ${e.view}${e.tool ? ` of ${e.tool}` : ""}${e.requestId !== null && e.requestId !== undefined ? ` (call #${e.requestId})` : ""}`);
  return parts.join(" ");
}

function summary(event) {
  switch (event.kind) {
    case "frame": {
      const parts = [event.direction === "sent" ? "→" : "←", event.frameType];
      if (event.method) parts.push(event.method);
      const gist = frameGist(event);
      if (gist) parts.push(gist);
      if (event.id !== undefined && event.id !== null) parts.push(`#${JSON.stringify(event.id)}`);
      if (event.requestMethod) parts.push(`(${event.requestMethod})`);
      if (typeof event.durationMs === "number") parts.push(`${event.durationMs.toFixed(1)} ms`);
      if (event.late) parts.push(`arrived ${event.late}`);
      if (event.answeredBy) parts.push(`[${answeredBy(event.answeredBy)}]`);
      if (event.raw !== undefined) parts.push(JSON.stringify(event.raw.slice(0, 120)));
      return parts.join(" ");
    }
    case "http": return httpSummary(event);
    case "app": return appSummary(event);
    case "chat": {
      const head = `chat ${event.chat} step ${event.step}`;
      if (event.part === "tool") {
        const t = event.toolCall || {};
        return `${head}: ${t.name} on ${t.session || "no session"} ${excerpt(t.arguments, 60)} → ${excerpt(t.result?.error ?? t.result?.content ?? t.result, 80)}`;
      }
      if (event.part === "delta") return `${head}: streaming ${excerpt(JSON.stringify(event.text ?? ""), 120)}`;
      return `${head}: ${event.model ?? "the model"} says ${excerpt(event.text ?? "", 120)}`;
    }
    case "auth": return `oauth ${event.phase} ${event.ok === false ? "✗" : "✓"} ${event.message}`;
    case "stderr": return event.line;
    case "finding": return `${event.severity}: ${event.message}`;
    case "progress": {
      const of = event.total !== null && event.total !== undefined ? `/${event.total}` : "";
      const msg = event.message ? ` ${event.message}` : "";
      const who = event.requestId !== null && event.requestId !== undefined ? `request #${event.requestId}` : `token ${JSON.stringify(event.progressToken)} (no such request)`;
      const after = event.after ? ` — arrived after the request was ${event.after === "timeout" ? "given up (timeout)" : event.after}; informational` : "";
      return `${who}: ${event.progress}${of}${msg}${after}`;
    }
    case "state": {
      const a = event.state === "authorizing" ? event.authorization : null;
      const how = a ? ` — ${a.phase}${a.paused ? ", paused before: " + a.paused.next : a.url ? ", waiting for the user at " + (a.host || "the authorization page") : ""}` : "";
      return `${event.state}${how}${event.error ? ": " + event.error : ""}`;
    }
    case "exit": return `process exited: ${event.description}`;
    case "pending": return `${event.method} waiting for an answer (#${event.id})${event.round ? ` — input for request #${event.originRequestId}, round ${event.round}` : ""}`;
    case "round": return roundSummary(event);
    case "removed": return "session removed";
    case "lagged": return `${event.missed} events were dropped from the view (too far behind)`;
    default: return event.kind;
  }
}

// One step of a modern call that asked for input (MRTR), named by the call it belongs to.
function roundSummary(e) {
  const call = `${e.method} #${e.originRequestId}`;
  switch (e.phase) {
    case "input_required": return `${call} round ${e.round}: the server asks for ${(e.keys || []).map((k) => JSON.stringify(k)).join(", ") || "nothing"}${e.requestState ? " (with requestState)" : ""}`;
    case "answered": return `${call} round ${e.round}: ${JSON.stringify(e.key)} answered by ${e.answeredBy?.responder || "?"}`;
    case "retry": return `${call}: retried as #${e.requestId} (round ${e.round})`;
    case "ended": return `${call} round ${e.round} ended: ${e.reason}`;
    default: return `${call}: ${e.phase}`;
  }
}

function pairKey(session, direction, id) {
  return `${session}:${direction}:${JSON.stringify(id)}`;
}

function add(event, raw) {
  const e = {
    event, raw: event.kind === "frame" ? raw : null, kind: kindClass(event), session: event.session || null, seq: event.seq,
    method: String(event.method || event.requestMethod || event.carries?.method || "").toLowerCase(),
    sum: summary(event), answer: null, pairSeq: null,
  };
  e.text = `${event.kind} ${e.sum}`.toLowerCase();
  if (event.kind === "frame" && event.frameType === "request") {
    asked.set(pairKey(e.session, event.direction, event.id), e);
    if (asked.size > MAX_PAIRS) asked.delete(asked.keys().next().value);
  } else if (event.kind === "frame" && (event.frameType === "response" || event.frameType === "error")) {
    const k = pairKey(e.session, event.direction === "sent" ? "received" : "sent", event.id);
    const q = asked.get(k);
    if (q) {
      asked.delete(k);
      q.answer = { how: event.frameType === "error" ? "error" : "answered", ms: event.durationMs, seq: e.seq };
      e.pairSeq = q.seq;
    }
  }
  entries.push(e);
  return e;
}

let kinds = new Set(["frame", "stderr", "finding", "progress", "http", "other"]);
let needle = "";
let method = "";
let allServers = false;

function passes(e) {
  if (!allServers && e.session && e.session !== sessionId()) return false;
  return kinds.has(e.kind) && (!needle || e.text.includes(needle)) && (!method || e.method.includes(method));
}

export function push(event, rawText) {
  queue.push([event, rawText]);
  if (!scheduled) {
    scheduled = true;
    requestAnimationFrame(flush);
  }
}

function box() { return $("timeline"); }

function atBottom() {
  const b = box();
  return b.scrollTop + b.clientHeight >= b.scrollHeight - rowHeight * 2;
}

function flush() {
  scheduled = false;
  const pinned = atBottom();
  const batch = queue;
  queue = [];
  for (const [event, raw] of batch) {
    const e = add(event, raw);
    if (passes(e)) shown.push(e);
  }
  if (entries.length > MAX_ENTRIES) {
    entries = entries.slice(entries.length - Math.floor(MAX_ENTRIES * 0.9));
    shown = entries.filter(passes);
  }
  if (!pinned) $("jump-latest").hidden = false;
  draw(pinned);
}

function rowFor(e, i) {
  const ev = e.event;
  const cls = [`event-line event kind-${ev.kind}`];
  if (ev.kind === "finding") cls.push(`severity-${ev.severity}`);
  if (ev.kind === "frame") cls.push(`dir-${ev.direction}`);
  if (ev.answeredBy?.responder === "mock") cls.push("answered-mock");
  if (ev.kind === "progress" && ev.after) cls.push("after-end");
  if (e.seq === activeSeq) cls.push("active");
  const sum = el("span", { class: "summary", text: e.sum });
  if (e.answer) sum.append(el("span", { class: "paired", text: ` ⇢ ${e.answer.how}${typeof e.answer.ms === "number" ? ` in ${e.answer.ms.toFixed(1)} ms` : ""} (#${e.answer.seq})` }));
  if (e.pairSeq !== null) sum.append(el("span", { class: "paired", text: ` ⇠ #${e.pairSeq}` }));
  const row = el("div", {
    id: `ev-${e.seq}`, role: "option", class: cls.join(" "), "aria-selected": String(e.seq === openSeq),
    "data-seq": e.seq, "data-kind": e.kind,
  },
  el("span", { class: "seq", text: e.seq }),
  el("time", { class: "time", text: clock(ev.time) }),
  allServers && e.session ? sessionTag(e.session) : null,
  el("span", { class: "kind", text: ev.kind }),
  sum);
  if (e.session) row.dataset.session = e.session;
  row.style.top = `${i * rowHeight}px`; // through the CSSOM: the CSP forbids style attributes
  return row;
}

// Draws the rows in view (plus a few either side); everything else is a spacer's height.
// `stick`: scroll to the newest row first (the list follows new rows).
function draw(stick = false) {
  const b = box();
  if (!b.clientHeight) return; // hidden tab: drawn when shown
  const spacer = $("timeline-spacer");
  spacer.style.height = `${shown.length * rowHeight}px`;
  if (stick) b.scrollTop = b.scrollHeight;
  const first = Math.max(0, Math.floor(b.scrollTop / rowHeight) - OVERSCAN);
  const last = Math.min(shown.length, Math.ceil((b.scrollTop + b.clientHeight) / rowHeight) + OVERSCAN);
  const rows = [];
  for (let i = first; i < last; i++) rows.push(rowFor(shown[i], i));
  b.replaceChildren(spacer, ...rows);
  if (activeSeq !== null && $maybe(`ev-${activeSeq}`)) b.setAttribute("aria-activedescendant", `ev-${activeSeq}`);
  else b.removeAttribute("aria-activedescendant");
  $("timeline-count").textContent = shown.length === entries.length ? `${entries.length} events` : `${shown.length} of ${entries.length} events`;
  if (atBottom()) $("jump-latest").hidden = true;
}

// The entry with `seq`, by binary search (entries are in seq order).
export function entry(seq) {
  let lo = 0, hi = entries.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = entries[mid].seq;
    if (s === seq) return entries[mid];
    if (s < seq) lo = mid + 1; else hi = mid - 1;
  }
  return null;
}

export function all() { return entries; }

// Scrolls row `seq` into view (showing it even if filtered: the filters are cleared then).
export function reveal(seq) {
  let i = shown.findIndex((e) => e.seq === seq);
  if (i < 0) {
    for (const c of document.querySelectorAll(".kind-filter")) c.checked = true;
    $("timeline-search").value = ""; $("timeline-method").value = "";
    refilter();
    i = shown.findIndex((e) => e.seq === seq);
  }
  if (i < 0) return;
  activeSeq = seq;
  const b = box();
  const top = i * rowHeight;
  if (top < b.scrollTop || top + rowHeight > b.scrollTop + b.clientHeight) b.scrollTop = top - b.clientHeight / 2;
  draw();
}

function openRow(seq) {
  const e = entry(seq);
  if (!e) return;
  openSeq = seq;
  activeSeq = seq;
  exchange.show(e);
  draw();
}

// Applies the filters again (after a change of filter, or of the server shown).
export function refilter() {
  kinds = new Set([...document.querySelectorAll(".kind-filter")].filter((c) => c.checked).map((c) => c.value));
  needle = $("timeline-search").value.trim().toLowerCase();
  method = $("timeline-method").value.trim().toLowerCase();
  allServers = $("timeline-scope").value === "all";
  const pinned = atBottom();
  shown = entries.filter(passes);
  draw(pinned);
}

function moveActive(delta) {
  if (!shown.length) return;
  let i = shown.findIndex((e) => e.seq === activeSeq);
  if (i < 0) i = delta > 0 ? -1 : shown.length;
  i = Math.max(0, Math.min(shown.length - 1, i + delta));
  reveal(shown[i].seq);
}

export function init() {
  for (const c of document.querySelectorAll(".kind-filter")) c.addEventListener("change", refilter);
  $("timeline-search").addEventListener("input", refilter);
  $("timeline-method").addEventListener("input", refilter);
  $("timeline-scope").addEventListener("change", refilter);
  $("clear-timeline").addEventListener("click", () => { entries = []; shown = []; asked.clear(); draw(); });
  const b = box();
  let pending = false;
  b.addEventListener("scroll", () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; draw(); });
  });
  b.addEventListener("click", (ev) => {
    const row = ev.target.closest(".event-line");
    if (row) openRow(Number(row.dataset.seq));
  });
  b.addEventListener("keydown", (ev) => {
    const page = Math.max(1, Math.floor(b.clientHeight / rowHeight) - 1);
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, Home: -Infinity, End: Infinity };
    if (ev.key in moves) { ev.preventDefault(); moveActive(Number.isFinite(moves[ev.key]) ? moves[ev.key] : moves[ev.key] > 0 ? shown.length : -shown.length); }
    else if ((ev.key === "Enter" || ev.key === " ") && activeSeq !== null) { ev.preventDefault(); openRow(activeSeq); }
  });
  $("jump-latest").addEventListener("click", () => { draw(true); $("jump-latest").hidden = true; });
  exchange.init({ entry, all: () => entries, reveal, close: () => { openSeq = null; draw(); } });
  dock.onShow(() => requestAnimationFrame(draw));
  window.addEventListener("resize", () => requestAnimationFrame(draw));
  const probe = getComputedStyle(document.documentElement).getPropertyValue("--row");
  rowHeight = parseInt(probe, 10) || 22;
}
