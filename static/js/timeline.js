// The live timeline: every event from /api/events, rendered incrementally (one animation frame
// per batch) with the DOM capped; the full history stays in the backend. Each row is tagged with
// its session, and the view shows the current server's rows or every server's.

import { sessionId } from "./api.js";
import { $, el, pretty, jsonValueAt } from "./dom.js";
import { nameOf } from "./servers.js";

const MAX_ROWS = 2000;
// Our requests' rows by id, so the answer can be written beside the question.
const requestRows = new Map();
const MAX_PAIRS = 5000;
let queue = [];
let scheduled = false;
const list = () => $("timeline");

function clock(time) {
  const t = String(time || "");
  const m = t.match(/T(\d\d:\d\d:\d\d(?:\.\d{1,3})?)/);
  return m ? m[1] : t;
}

function kindClass(event) {
  return ["frame", "stderr", "finding", "progress", "http"].includes(event.kind) ? event.kind : "other";
}

function answeredBy(by) {
  switch (by.responder) {
    case "mock": return by.rule === "default" ? "mocked: default answer" : `mocked: rule ${by.rule}${by.name ? ` "${by.name}"` : ""} /${by.match}/`;
    case "manual": return "answered by hand";
    case "roots": return "from the roots list";
    case "capabilities": return "refused: not declared";
    default: return String(by.responder);
  }
}

function httpSummary(e) {
  const path = (() => { try { const u = new URL(e.url); return u.pathname + u.search; } catch { return e.url || ""; } })();
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

function summary(event) {
  switch (event.kind) {
    case "frame": {
      const arrow = event.direction === "sent" ? "→" : "←";
      const parts = [arrow, event.frameType];
      if (event.method) parts.push(event.method);
      if (event.id !== undefined && event.id !== null) parts.push(`#${JSON.stringify(event.id)}`);
      if (event.requestMethod) parts.push(`(${event.requestMethod})`);
      if (typeof event.durationMs === "number") parts.push(`${event.durationMs.toFixed(1)} ms`);
      if (event.late) parts.push(`arrived ${event.late}`);
      if (event.answeredBy) parts.push(`[${answeredBy(event.answeredBy)}]`);
      if (event.raw !== undefined) parts.push(JSON.stringify(event.raw.slice(0, 120)));
      return parts.join(" ");
    }
    case "http": return httpSummary(event);
    case "stderr": return event.line;
    case "finding": return `${event.severity}: ${event.message}`;
    case "progress": {
      const of = event.total !== null && event.total !== undefined ? `/${event.total}` : "";
      const msg = event.message ? ` ${event.message}` : "";
      return `request #${event.requestId ?? "?"}: ${event.progress}${of}${msg}`;
    }
    case "state": return `${event.state}${event.error ? ": " + event.error : ""}`;
    case "exit": return `process exited: ${event.description}`;
    case "pending": return `${event.method} waiting for an answer (#${event.id})`;
    case "removed": return "session removed";
    case "lagged": return `${event.missed} events were dropped from the view (too far behind)`;
    default: return event.kind;
  }
}

function detail(event, rawText) {
  if (event.kind === "frame") {
    if (event.raw !== undefined) return event.raw;
    const at = rawText.indexOf('"message":');
    const exact = at >= 0 ? jsonValueAt(rawText, at + '"message":'.length) : null;
    return `${pretty(event.message)}\n\n— exactly as on the wire —\n${exact ?? ""}`;
  }
  return pretty(event);
}

function row(event, rawText) {
  const kind = kindClass(event);
  const severity = event.kind === "finding" ? ` severity-${event.severity}` : "";
  const dir = event.kind === "frame" ? ` dir-${event.direction}` : "";
  const mocked = event.answeredBy?.responder === "mock" ? " answered-mock" : "";
  const text = summary(event);
  let body = null;
  const li = el("li", { class: `event kind-${event.kind}${severity}${dir}${mocked}`, "data-kind": kind, "data-seq": event.seq });
  if (event.session) li.dataset.session = event.session;
  const toggle = el("button", { type: "button", class: "event-line", "aria-expanded": "false", onclick: () => {
    const open = toggle.getAttribute("aria-expanded") === "true";
    toggle.setAttribute("aria-expanded", String(!open));
    if (!body) {
      const text = detail(event, rawText);
      const copy = el("button", { type: "button", class: "copy", onclick: () => navigator.clipboard.writeText(text).catch(() => {}) }, "Copy");
      body = el("div", { class: "event-detail-box" }, copy, el("pre", { class: "json event-detail", text }));
      li.append(body);
    }
    body.hidden = open;
  } },
    el("span", { class: "seq", text: event.seq }),
    el("time", { class: "time", text: clock(event.time) }),
    event.session ? el("span", { class: "session-tag", text: nameOf(event.session), title: `session ${event.session}` }) : null,
    el("span", { class: "kind", text: event.kind }),
    el("span", { class: "summary", text }));
  li.append(toggle);
  li.dataset.text = `${event.kind} ${text}`.toLowerCase();
  li.dataset.method = event.method || event.requestMethod || "";
  if (event.kind === "frame" && event.direction === "sent" && event.frameType === "request") {
    requestRows.set(`${event.session}:${JSON.stringify(event.id)}`, li);
    if (requestRows.size > MAX_PAIRS) requestRows.delete(requestRows.keys().next().value);
  } else if (event.kind === "frame" && event.direction === "received" && event.requestMethod) {
    const pairKey = `${event.session}:${JSON.stringify(event.id)}`;
    const asked = requestRows.get(pairKey);
    if (asked) {
      requestRows.delete(pairKey);
      const how = event.frameType === "error" ? "error" : "answered";
      const ms = typeof event.durationMs === "number" ? ` in ${event.durationMs.toFixed(1)} ms` : "";
      asked.querySelector(".summary").append(el("span", { class: "paired", text: ` ⇢ ${how}${ms} (#${event.seq})` }));
      li.querySelector(".summary").append(el("span", { class: "paired", text: ` ⇠ #${asked.dataset.seq}` }));
    }
  }
  return li;
}

export function push(event, rawText) {
  queue.push([event, rawText]);
  if (!scheduled) {
    scheduled = true;
    requestAnimationFrame(flush);
  }
}

function flush() {
  scheduled = false;
  const ol = list();
  const pinned = ol.scrollTop + ol.clientHeight >= ol.scrollHeight - 40;
  const batch = queue.length > MAX_ROWS ? queue.slice(-MAX_ROWS) : queue;
  queue = [];
  const frag = document.createDocumentFragment();
  for (const [event, raw] of batch) {
    const li = row(event, raw);
    applyFilter(li);
    frag.append(li);
  }
  ol.append(frag);
  while (ol.childElementCount > MAX_ROWS) ol.firstElementChild.remove();
  if (pinned) ol.scrollTop = ol.scrollHeight;
}

let kinds = new Set(["frame", "stderr", "finding", "progress", "http", "other"]);
let needle = "";

let method = "";
let allServers = false;

function applyFilter(li) {
  const elsewhere = !allServers && li.dataset.session && li.dataset.session !== sessionId();
  li.hidden = elsewhere || !kinds.has(li.dataset.kind) || (needle && !li.dataset.text.includes(needle))
    || (method && !li.dataset.method.toLowerCase().includes(method));
}

// Applies the filters again (after a change of filter, or of the server shown).
export function refilter() {
  kinds = new Set([...document.querySelectorAll(".kind-filter")].filter((c) => c.checked).map((c) => c.value));
  needle = $("timeline-search").value.trim().toLowerCase();
  method = $("timeline-method").value.trim().toLowerCase();
  allServers = $("timeline-scope").value === "all";
  list().classList.toggle("all-servers", allServers);
  for (const li of list().children) applyFilter(li);
}

export function init() {
  for (const c of document.querySelectorAll(".kind-filter")) c.addEventListener("change", refilter);
  $("timeline-search").addEventListener("input", refilter);
  $("timeline-method").addEventListener("input", refilter);
  $("timeline-scope").addEventListener("change", refilter);
  $("clear-timeline").addEventListener("click", () => { list().replaceChildren(); });
}
