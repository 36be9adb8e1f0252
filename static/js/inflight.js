// Our requests still waiting for an answer: one list with a progress bar (determinate when the
// server gives a total), the latest progress message, elapsed time and a cancel button each.
// The list is the backend's (/api/inflight); progress events move the bars in between.

import { call, sessionId, sessionPath } from "./api.js";
import { $, el, seconds } from "./dom.js";

const rows = new Map(); // requestId → {li, bar, message, elapsed, base, fetchedAt}
let timer = null;
let ticker = null;

function scheduleRefresh() {
  if (timer) return;
  timer = setTimeout(() => { timer = null; refresh().catch(() => {}); }, 80);
}

function setProgress(r, p) {
  if (!p) return;
  const total = typeof p.total === "number" && p.total > 0 ? p.total : null;
  if (total) { r.bar.max = total; r.bar.value = Math.min(Number(p.progress) || 0, total); }
  else r.bar.removeAttribute("value"); // indeterminate
  r.bar.dataset.progress = String(p.progress);
  r.count.textContent = total ? `${p.progress} / ${total}` : `${p.progress ?? ""}`;
  r.message.textContent = typeof p.message === "string" ? p.message : "";
}

async function cancel(id, button) {
  button.disabled = true;
  try {
    await call("POST", sessionPath("/cancel"), { requestId: id, reason: "cancelled by the user in mcpscope" });
  } catch (e) {
    button.disabled = false;
    button.title = e.message;
  }
  scheduleRefresh();
}

export async function refresh() {
  const { body } = await call("GET", sessionPath("/inflight"));
  const list = Array.isArray(body) ? body : [];
  const ids = new Set(list.map((r) => r.requestId));
  for (const [id, r] of rows) if (!ids.has(id)) { r.li.remove(); rows.delete(id); }
  for (const item of list) {
    let r = rows.get(item.requestId);
    if (!r) {
      const bar = el("progress", { class: "bar", "aria-label": `progress of request ${item.requestId}` });
      const li = el("li", { class: "inflight-item", "data-request-id": item.requestId },
        el("span", { class: "inflight-what", text: `#${item.requestId} ${item.method}${typeof item.subject === "string" ? ` ${item.subject}` : ""}` }),
        bar);
      r = { li, bar, count: el("span", { class: "count muted" }), message: el("span", { class: "progress-message" }), elapsed: el("span", { class: "elapsed muted" }) };
      const button = el("button", { type: "button", class: "cancel-request", "data-request-id": item.requestId }, "Cancel");
      button.addEventListener("click", () => cancel(item.requestId, button));
      li.append(r.count, r.message, r.elapsed, button);
      rows.set(item.requestId, r);
      $("inflight-list").append(li);
    }
    r.base = item.elapsedMs;
    r.fetchedAt = performance.now();
    r.limit = item.timeoutMs;
    setProgress(r, item.progress);
  }
  $("inflight-box").hidden = rows.size === 0;
  tick();
  if (rows.size && !ticker) ticker = setInterval(tick, 250);
  if (!rows.size && ticker) { clearInterval(ticker); ticker = null; }
}

function tick() {
  const now = performance.now();
  for (const r of rows.values()) {
    r.elapsed.textContent = seconds(r.base + (now - r.fetchedAt));
  }
}

export function onEvent(event) {
  if (event.session && event.session !== sessionId()) return;
  if (event.kind === "progress") {
    if (event.after) return; // the request already ended; its row is gone
    const r = rows.get(event.requestId);
    if (r) setProgress(r, event);
    else if (event.requestId !== null) scheduleRefresh();
  } else if (event.kind === "state") scheduleRefresh();
  else if (event.kind === "frame") {
    const ours = event.direction === "sent" && event.frameType === "request";
    const answered = event.direction === "received" && event.requestMethod;
    const cancelled = event.direction === "sent" && event.method === "notifications/cancelled";
    if (ours || answered || cancelled) scheduleRefresh();
  }
}

// Another session is shown: its own requests, from scratch (ids are per session).
export function reset() {
  for (const r of rows.values()) r.li.remove();
  rows.clear();
  refresh().catch(() => {});
}

export function init() {
  refresh().catch(() => {});
}
