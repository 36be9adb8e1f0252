// The dock's Tasks tab: every task the shown session follows (the backend polls them; this only
// shows `task` events), newest first, each with its tool, status and status message, age since
// the server created it, TTL, the outcome rendered like any answer once it is known, and Cancel
// while it runs. A new connection starts with none, as the backend does.

import { call, sessionId, sessionPath } from "./api.js";
import { $, el, seconds } from "./dom.js";
import { render } from "./result.js";
import * as dock from "./dock.js";
import * as store from "./store.js";

const TERMINAL = new Set(["completed", "failed", "cancelled"]);

// The session's tasks (in the store): taskId → the latest task view.
function tasksOf(id) {
  return store.of(id).tasks;
}

function running(t) { return !TERMINAL.has(t.status) && !t.lost; }

// A running task's age; an ended one's run time, by the server's own clock.
function age(t) {
  const since = Date.parse(t.createdAt);
  if (!Number.isFinite(since)) return "";
  if (running(t)) return `created ${seconds(Math.max(0, Date.now() - since))} ago`;
  const last = Date.parse(t.lastUpdatedAt);
  return Number.isFinite(last) ? `ran ${seconds(Math.max(0, last - since))}` : "";
}

function ttl(t) {
  if (t.ttlMs === null) return "TTL unlimited";
  return typeof t.ttlMs === "number" ? `TTL ${seconds(t.ttlMs)}` : "";
}

async function cancel(t, button) {
  button.disabled = true;
  try {
    const { body } = await call("POST", sessionPath(`/tasks/${encodeURIComponent(t.taskId)}/cancel`));
    if (body.error) button.after(el("span", { class: "task-note error-note", text: `tasks/cancel: ${body.error.message}` }));
  } catch (e) {
    button.after(el("span", { class: "task-note error-note", text: e.message }));
    button.disabled = false;
  }
}

// A task the client hosts for the server: who asked, how often the server polled, and where
// the answer is given (the request waits in the pending panel like any other).
function hostedFacts(t) {
  return [
    el("span", { text: `hosted for the server · its request ${JSON.stringify(t.serverRequestId)}` }),
    el("span", { text: `${t.polls} poll${t.polls === 1 ? "" : "s"} by the server` }),
  ];
}

function card(t) {
  const hosted = t.side === "client";
  const status = t.lost ? "lost" : String(t.status ?? "unknown");
  const li = el("li", { class: `task-card task-${status}`, "data-task": t.taskId, "data-side": hosted ? "client" : "server" },
    el("div", { class: "task-head" },
      el("code", { class: "wire-name", text: t.subject ?? t.method }),
      el("span", { class: `task-status status-${status}`, text: status }),
      el("span", { class: "task-message", text: t.lost || (typeof t.statusMessage === "string" ? t.statusMessage : "") }),
    ),
    el("div", { class: "task-facts muted" },
      el("span", { class: "task-age", text: age(t) }),
      el("span", { text: ttl(t) }),
      ...(hosted ? hostedFacts(t) : [
        el("span", { text: `${t.polls} poll${t.polls === 1 ? "" : "s"} · every ${seconds(t.pollIntervalMs)}` }),
        el("span", { text: `${t.era} · request #${t.requestId}` })]),
      el("code", { class: "task-id", text: t.taskId, title: "taskId" }),
    ));
  if (hosted && running(t)) {
    li.append(el("p", { class: "task-note muted", text: "Waiting for an answer: the server's request is in the pending panel, or a mock rule answers it." }));
  } else if (running(t)) {
    const b = el("button", { type: "button", class: "small task-cancel", text: "Cancel task", "aria-label": `Cancel task ${t.taskId}` });
    b.addEventListener("click", () => cancel(t, b));
    li.querySelector(".task-head").append(b);
  }
  if (t.outcome) {
    const box = el("div", { class: "task-outcome result" });
    li.append(box);
    render(box, t.outcome).catch(() => {});
  }
  return li;
}

export function renderAll() {
  const list = [...tasksOf(sessionId()).values()].reverse();
  $("task-list").replaceChildren(...list.map(card));
  $("tasks-empty").hidden = list.length > 0;
  const live = list.filter(running).length;
  $("tasks-count").textContent = list.length ? (live ? `${live} running` : String(list.length)) : "";
}

function upsert(session, t) {
  const map = tasksOf(session);
  // A server may pick an id that equals one of ours: the side keeps them apart.
  const key = `${t.side ?? "server"}:${t.taskId}`;
  map.delete(key); // newest change last, so the list shows it first
  map.set(key, t);
}

// The tasks the session follows now, from the backend: the page's first load replays only the
// newest events, which may not hold a long-running task's. Those the events already told of
// stay as they are.
export async function load() {
  const id = sessionId();
  if (!id) return;
  let list;
  try { list = (await call("GET", sessionPath("/tasks", id))).body; } catch { return; }
  if (!Array.isArray(list)) return;
  const map = tasksOf(id);
  const known = new Map();
  for (const t of [...list].reverse()) {
    const key = `${t.side ?? "server"}:${t.taskId}`;
    if (!map.has(key)) known.set(key, t);
  }
  if (!known.size) return;
  store.of(id).tasks = new Map([...known, ...map]);
  if (id === sessionId()) renderAll();
}

export function onEvent(event) {
  if (!event.session) return;
  if (event.kind === "state" && event.state === "connecting") {
    store.of(event.session).tasks = new Map();
  } else if (event.kind === "task") {
    upsert(event.session, event);
  } else {
    return;
  }
  if (event.session === sessionId()) renderAll();
}

// Opens the tab with a task in view (from a call's answer that created it).
export function reveal(taskId) {
  dock.showTab("tasks");
  const li = [...$("task-list").children].find((c) => c.dataset.task === taskId && c.dataset.side === "server");
  li?.scrollIntoView({ block: "nearest" });
}

export function init() {
  // Ages move on while tasks run; only those lines are touched.
  setInterval(() => {
    for (const t of tasksOf(sessionId()).values()) {
      if (!running(t)) continue;
      const span = $("task-list").querySelector(`[data-task="${CSS.escape(t.taskId)}"][data-side="${t.side === "client" ? "client" : "server"}"] .task-age`);
      if (span) span.textContent = age(t);
    }
  }, 1000);
}
