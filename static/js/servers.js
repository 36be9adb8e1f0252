// The server list: every session with its state, the server requests it has waiting and its
// findings so far. Choosing one shows it everywhere (header, workbench, logs, timeline); the
// list itself is the backend's (/api/sessions), refreshed when an event says something changed.

import { call, sessionId } from "./api.js";
import { $, el } from "./dom.js";

const sessions = new Map(); // id → session object, in the backend's order
let timer = null;
let onChoose = () => {};

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
  return all();
}

function schedule() {
  if (timer) return;
  timer = setTimeout(() => { timer = null; load().catch(() => {}); }, 80);
}

// Events that change a row: its state, its queue, its findings, its removal.
export function onEvent(event) {
  if (!event.session) return;
  const answered = event.kind === "frame" && event.direction === "sent" && event.answeredBy;
  if (["state", "pending", "finding", "removed"].includes(event.kind) || answered) schedule();
}

function badge(cls, text) {
  return el("span", { class: `server-badge ${cls}`, text });
}

export function render() {
  const current = sessionId();
  $("server-list").replaceChildren(...all().map((s) => {
    const label = [s.name, s.state, s.pending ? `${s.pending} waiting` : "", s.findings ? `${s.findings} findings` : ""].filter(Boolean).join(", ");
    const choose = el("button", {
      type: "button", class: "server-item", "data-session": s.id, "aria-label": label,
      onclick: () => onChoose(s.id),
    },
      el("span", { class: `dot state-${s.state}`, "aria-hidden": "true" }),
      el("span", { class: "server-item-name", text: s.name || s.id }),
      el("span", { class: "muted mono", text: s.id }),
      s.pending ? badge("pending", `${s.pending} waiting`) : null,
      s.findings ? badge("findings", `${s.findings} findings`) : null);
    if (s.id === current) choose.setAttribute("aria-current", "true");
    const remove = el("button", {
      type: "button", class: "server-remove", "aria-label": `Remove ${s.name || s.id}`, title: "Disconnect and remove",
      onclick: async () => { await call("DELETE", `/api/sessions/${encodeURIComponent(s.id)}`).catch(() => {}); schedule(); },
    }, "×");
    return el("li", { class: "server-row" }, choose, remove);
  }));
  $("servers-count").textContent = sessions.size ? `(${sessions.size})` : "";
}

export function init(choose) {
  onChoose = choose;
}
