// The server list: every session with its state, the server requests it has waiting and its
// findings so far. Choosing one shows it everywhere (header, workbench, logs, timeline); the
// list itself is the backend's (/api/sessions), read once per burst of events that change it,
// and handed to whoever else needs it (the server-request drawer) rather than read again.

import { call, sessionId } from "./api.js";
import { $, el } from "./dom.js";

const sessions = new Map(); // id → session object, in the backend's order
let timer = null;
let onChoose = () => {};
const loadListeners = [];

// `f(list)` runs after every load of the list.
export function onLoad(f) {
  loadListeners.push(f);
}

// A session's name for tags and announcements; its id when the list does not know it yet.
export function nameOf(id) {
  return sessions.get(id)?.name || id;
}

export function all() {
  return [...sessions.values()];
}

export async function load() {
  const { body } = await call("GET", "/api/sessions");
  sessions.clear();
  for (const s of Array.isArray(body) ? body : []) sessions.set(s.id, s);
  render();
  const list = all();
  for (const f of loadListeners) f(list);
  return list;
}

// Reads the list again soon, once for any number of calls in between.
export function schedule() {
  if (timer) return;
  timer = setTimeout(() => { timer = null; load().catch(() => {}); }, 80);
}

// Events that change a row: its state, its queue (a request, our answer, the server
// withdrawing one), its findings, its removal.
export function onEvent(event) {
  if (!event.session) return;
  const answered = event.kind === "frame" && event.direction === "sent" && event.answeredBy;
  const withdrawn = event.kind === "frame" && event.direction === "received" && event.method === "notifications/cancelled";
  if (["state", "pending", "finding", "removed"].includes(event.kind) || answered || withdrawn) schedule();
}

function badge(cls, text) {
  return el("span", { class: `server-badge ${cls}`, text });
}

// Rows are kept per session and updated in place, so a button keeps focus (and a click in
// flight keeps its target) while counts change under it.
const rows = new Map(); // id → {li, choose, remove}

function row(s) {
  let r = rows.get(s.id);
  if (!r) {
    const choose = el("button", { type: "button", class: "server-item", "data-session": s.id, onclick: () => onChoose(s.id) });
    const remove = el("button", {
      type: "button", class: "server-remove", title: "Disconnect and remove",
      onclick: async () => { await call("DELETE", `/api/sessions/${encodeURIComponent(s.id)}`).catch(() => {}); schedule(); },
    }, "×");
    r = { li: el("li", { class: "server-row" }, choose, remove), choose, remove };
    rows.set(s.id, r);
  }
  r.remove.setAttribute("aria-label", `Remove ${s.name || s.id}`);
  r.choose.replaceChildren(
    el("span", { class: `dot state-${s.state}`, "aria-hidden": "true" }),
    el("span", { class: "server-item-name", text: s.name || s.id }),
    // The state is the dot's colour on screen; said in words for screen readers.
    el("span", { class: "sr-only", text: `(${s.state})` }),
    el("span", { class: "muted mono", text: s.id }),
    s.tapped ? badge("tapped", "tapped") : "",
    s.pending ? badge("pending", `${s.pending} waiting`) : "",
    s.findings ? badge("findings", `${s.findings} findings`) : "");
  if (s.id === sessionId()) r.choose.setAttribute("aria-current", "true");
  else r.choose.removeAttribute("aria-current");
  return r.li;
}

export function render() {
  for (const id of rows.keys()) if (!sessions.has(id)) { rows.get(id).li.remove(); rows.delete(id); }
  const list = $("server-list");
  all().forEach((s, i) => {
    const li = row(s);
    if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
  });
  $("servers-count").textContent = sessions.size ? `(${sessions.size})` : "";
}

export function init(choose) {
  onChoose = choose;
}
