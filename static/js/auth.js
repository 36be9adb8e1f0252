// The OAuth debugger above the work area: while a remote server asks for authorization, the
// authorization URL (host highlighted, opened only by the user's click, http(s) only and plain
// http only on loopback) and, always, the flow as a checklist (discovery → metadata →
// registration → authorize → callback → token → connected). Each step expands into what was
// checked (`auth` events) and the HTTP exchanges of its phase (`http` events), secrets already
// hidden by the backend. A connect and this view watch the same flow: there is only one.

import { beforeStreamOnce, call, olderEvents, sessionId, sessionPath } from "./api.js";
import { $, $maybe, el, pretty } from "./dom.js";
import { urlView } from "./elicit.js";
import * as store from "./store.js";

const STEPS = [
  ["discovery", "Discovery", ["challenge", "prm"]],
  ["metadata", "Authorization server metadata", ["as-metadata"]],
  ["registration", "Client registration", ["registration"]],
  ["authorize", "Authorize in the browser", ["authorize", "step-up"]],
  ["callback", "Callback", ["callback"]],
  ["token", "Token", ["token", "refresh"]],
];

// A session's flow (in the store): { auth: [events], http: [events with a phase], view: the
// session's authorization, state, cut: whether it began after the page loaded (what is older
// is no part of it) }.
function fresh(cut) { return { auth: [], http: [], view: null, state: null, cut }; }

function flowOf(id) {
  const s = store.of(id);
  s.auth ??= fresh(false);
  return s.auth;
}

// One event into a flow; a new connection starts a new one.
function apply(flow, event) {
  if (event.kind === "state") {
    // A new connection starts with no authorization object; one that just authorized keeps
    // it. A disconnected session has none: no badge may go on saying "authorized".
    if ((event.state === "connecting" || event.state === "disconnected") && !event.authorization) return fresh(true);
    flow.view = event.authorization ?? flow.view;
    flow.state = event.state;
    // Forgotten credentials: the steps that got them no longer stand for anything kept.
    if (flow.view?.phase === "forgotten") { flow.auth = []; flow.http = []; flow.cut = true; }
  } else if (event.kind === "auth") flow.auth.push(event);
  else flow.http.push(event);
  return flow;
}

// The page's stream has started: a flow may have begun before it.
export function started(session) {
  if (session) backfill(session);
}

const beforeStream = beforeStreamOnce();

// The shown session's flow from before the page loaded (its last states, its steps), once per
// remote session (a stdio server has no authorization), under what has come since.
export async function backfill(session) {
  const id = session?.id;
  if (!id || id !== sessionId()) return;
  if (!session.target || session.target.transport === "stdio") return;
  const pages = await beforeStream(id, (before) => Promise.all([
    olderEvents({ before, limit: 200, kind: "state" }, id),
    olderEvents({ before, limit: 500, kind: "auth,http", q: '"phase":' }, id),
  ]));
  if (!pages) return;
  // Steps older than the oldest state fetched may belong to an earlier connection.
  const since = pages[0].more ? pages[0].oldest ?? 0 : 0;
  const older = pages.flatMap((p) => p.events.map((x) => x.event))
    .filter((e) => e.session === id && e.seq >= since && (e.kind !== "http" || e.phase))
    .sort((a, b) => a.seq - b.seq);
  let before = fresh(false);
  for (const e of older) before = apply(before, e);
  const now = flowOf(id);
  if (!now.cut) {
    now.auth = before.auth.concat(now.auth);
    now.http = before.http.concat(now.http);
    now.view ??= before.view;
    now.state ??= before.state;
    now.cut = before.cut;
  }
  if (id === sessionId()) render();
}

// Plain http is for loopback only: anything else could be read or changed on the way.
export function openable(raw) {
  let u;
  try { u = new URL(raw); } catch { return false; }
  if (u.protocol === "https:") return true;
  if (u.protocol !== "http:") return false;
  const h = u.hostname;
  return h === "localhost" || h === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

// Where a step-by-step flow can stop, in words (the phase names are the wire's).
const PAUSED_AT = {
  prm: "fetching the server's protected resource metadata (RFC 9728)",
  "as-metadata": "fetching the authorization server's metadata (RFC 8414)",
  registration: "registering this client",
  authorize: "sending you to the authorization page",
  token: "asking for the token",
};

// The same, short enough for the badge.
const PAUSED_SHORT = { prm: "resource metadata", "as-metadata": "server metadata", registration: "registration", authorize: "the browser", token: "the token" };

// A step is waiting while the flow stands in one of its phases: paused before its request,
// or (authorize) for the browser. Its earlier events (the challenge that started discovery,
// say) do not make it done before its own request went out.
function stepStatus(flow, events, phases) {
  if (events.some((e) => e.ok === false)) return "failed";
  const v = flow.view;
  if (flow.state === "authorizing" && v && phases.includes(v.phase) && (v.paused || v.phase === "authorize")) return "waiting";
  if (events.length) return "done";
  return "todo";
}

const MARK = { done: "✓", failed: "✗", waiting: "…", todo: "○" };

function exchangeView(x) {
  const head = `${x.method} ${x.url} → ${x.status ?? x.error ?? "?"}`;
  const body = el("div", { class: "auth-exchange-body" });
  const part = (label, value) => value !== undefined && body.append(el("h5", { text: label }), el("pre", { text: typeof value === "string" ? value : pretty(value) }));
  part("Request headers", x.requestHeaders);
  part("Request body", x.requestBody);
  part("Response headers", x.responseHeaders);
  part("Response body", x.responseBody ?? x.bodyExcerpt);
  return el("details", { class: "auth-exchange" }, el("summary", {}, el("code", { text: head })), body);
}

function stepView(flow, [key, title, phases]) {
  const events = flow.auth.filter((e) => phases.includes(e.phase));
  const status = stepStatus(flow, events, phases);
  const said = status === "waiting" && flow.view?.paused ? "paused before its request" : status;
  const exchanges = flow.http.filter((e) => phases.includes(e.phase));
  const last = events[events.length - 1];
  const summary = el("summary", {},
    el("span", { class: `auth-mark auth-${status}`, "aria-hidden": "true", text: MARK[status] }),
    el("span", { class: "auth-step-title", text: title }),
    el("span", { class: "sr-only", text: ` (${said})` }),
    el("code", { class: "wire-name", text: phases.join(" · ") }),
    el("span", { class: `auth-step-message${status === "failed" ? " error-note" : ""}`, text: last?.message ?? "" }));
  const body = el("div", { class: "auth-step-body" },
    ...events.map((e) => el("p", { class: e.ok === false ? "error-note" : "" }, e.ok === false ? "✗ " : "✓ ", e.message)),
    ...exchanges.map(exchangeView));
  if (!events.length && !exchanges.length) body.append(el("p", { class: "muted", text: status === "waiting" ? "Waiting: nothing of this step was sent yet." : "Not reached." }));
  return el("li", { class: `auth-step auth-step-${status}`, "data-step": key },
    el("details", { open: status === "failed" || status === "waiting" || undefined }, summary, body));
}

function connectedView(flow) {
  const done = flow.view?.phase === "authorized" && flow.state === "connected";
  return el("li", { class: `auth-step auth-step-${done ? "done" : "todo"}`, "data-step": "connected" },
    el("div", { class: "auth-step-line" },
      el("span", { class: `auth-mark auth-${done ? "done" : "todo"}`, "aria-hidden": "true", text: done ? "✓" : "○" }),
      el("span", { class: "auth-step-title", text: "Connected" }),
      el("span", { class: "auth-step-message", text: done ? `with a token from ${flow.view.issuer}${flow.view.scopes?.length ? ` for ${flow.view.scopes.join(" ")}` : ""}` : "" })));
}

// The button first (it must be where the eye is, even in a short window), the URL once, its
// host highlighted, below.
function waitingView(view) {
  const { node, href } = urlView(view.url);
  node.querySelector(".url-full")?.remove();
  const safe = href && openable(href);
  const open = el("button", { type: "button", id: "auth-open", class: "primary", text: "Open the authorization page", disabled: !safe || undefined });
  open.addEventListener("click", () => { if (safe) window.open(href, "_blank", "noopener,noreferrer"); });
  const after = view.stepByStep
    ? "Once the browser comes back, mcpscope pauses before the token request: Continue here."
    : "Once the browser comes back, mcpscope asks for the token and connects.";
  return el("div", { class: "auth-waiting" },
    el("p", {}, "The server needs authorization. Check the host, then open the page to sign in at ",
      el("strong", { class: "url-host", text: view.host || "" }), "."),
    el("div", { class: "auth-actions" }, open, el("span", { class: "muted", text: after })),
    safe ? null : el("p", { class: "error-note", text: "mcpscope opens only https URLs, or plain http on this machine (loopback)." }),
    node);
}

// The scopes each party says it supports, beside the field where a person picks them.
function supportedView(supported) {
  if (!supported) return null;
  const parts = [["the resource's metadata", supported.resource], ["the authorization server", supported.authorizationServer], ["the server's challenge", supported.challenge]]
    .filter(([, list]) => Array.isArray(list) && list.length)
    .map(([who, list]) => `${who}: ${list.join(" ")}`);
  return el("p", { class: "muted auth-supported", text: parts.length ? `Supported, as said by ${parts.join("; ")}.` : "No party lists the scopes it supports." });
}

// Step by step: what the flow does next, the values it may take edited, and Continue.
function pausedView(paused, phase) {
  const fields = [];
  const current = paused.current || {};
  if ((paused.editable || []).includes("scopes")) {
    fields.push(el("label", { for: "auth-edit-scopes", text: "Scopes (space-separated)" }),
      el("input", { id: "auth-edit-scopes", autocomplete: "off", spellcheck: "false", value: (current.scopes || []).join(" ") }),
      supportedView(current.supported));
  }
  if ((paused.editable || []).includes("clientId")) {
    fields.push(el("label", { for: "auth-edit-client", text: "Client id (empty: as planned)" }),
      el("input", { id: "auth-edit-client", autocomplete: "off", spellcheck: "false", value: current.clientId || "" }));
  }
  const go = el("button", { type: "button", id: "auth-continue", class: "primary", text: "Continue" });
  go.addEventListener("click", async () => {
    const edits = {};
    const scopes = $maybe("auth-edit-scopes");
    if (scopes && scopes.value.trim() !== (current.scopes || []).join(" ")) edits.scopes = scopes.value.trim();
    const client = $maybe("auth-edit-client");
    if (client && client.value.trim() && client.value.trim() !== (current.clientId || "")) edits.clientId = client.value.trim();
    go.disabled = true;
    try {
      await call("POST", sessionPath("/authorization/continue"), edits);
    } catch (e) {
      go.disabled = false;
      go.after(el("span", { class: "error-note", text: e.message }));
    }
  });
  return el("div", { class: "auth-waiting auth-paused" },
    el("p", {}, el("strong", { text: "Step by step: " }), `paused before ${PAUSED_AT[phase] ?? phase}. Next: `, el("code", { class: "auth-next", text: paused.next })),
    ...fields,
    el("div", { class: "auth-actions" }, go, el("span", { class: "muted", text: "Nothing is sent until you continue." })));
}

export function render() {
  const box = $("auth-box");
  const id = sessionId();
  const flow = id && store.peek(id)?.auth;
  const shown = flow && (flow.auth.length || flow.view);
  box.hidden = !shown;
  if (!shown) return;
  const v = flow.view || {};
  const phase = flow.state !== "authorizing" ? (v.phase === "forgotten" ? "credentials forgotten" : v.phase || "in progress")
    : v.paused ? `paused before ${PAUSED_SHORT[v.phase] ?? v.phase}`
    : v.url ? `waiting: ${v.phase}` : v.phase;
  $("auth-phase").title = v.paused ? `paused before ${PAUSED_AT[v.phase] ?? v.phase}` : "";
  $("auth-phase").textContent = phase;
  $("auth-phase").className = `auth-phase auth-phase-${flow.state === "authorizing" ? "waiting" : v.phase}`;
  const chosen = $("auth-details").dataset.userOpened;
  $("auth-details").open = chosen ? chosen === "1" : flow.state === "authorizing" || v.phase === "failed";
  const waiting = flow.state !== "authorizing" ? [] : v.paused ? [pausedView(v.paused, v.phase)] : v.url ? [waitingView(v)] : [];
  $("auth-waiting").replaceChildren(...waiting);
  $("auth-error").hidden = v.phase !== "failed";
  $("auth-error").textContent = v.phase === "failed" ? v.error || "" : "";
  $("auth-steps").replaceChildren(...STEPS.map((s) => stepView(flow, s)), connectedView(flow));
}

export function onEvent(event) {
  if (!event.session || !(event.kind === "state" || event.kind === "auth" || (event.kind === "http" && event.phase))) return;
  store.of(event.session).auth = apply(flowOf(event.session), event);
  if (event.session === sessionId()) render();
}

export function init() {
  // What the user chose (a click, or Enter/Space on the summary) wins over the automatic
  // opening while a flow waits; the toggle event would also fire for that automatic opening.
  $("auth-details").querySelector("summary").addEventListener("click", () => {
    $("auth-details").dataset.userOpened = $("auth-details").open ? "0" : "1";
  });
  $("auth-forget").addEventListener("click", async () => {
    const b = $("auth-forget");
    b.disabled = true;
    try {
      const { body } = await call("DELETE", sessionPath("/credentials"));
      $("auth-forgot").textContent = body.forgotten ? `Forgot the client and tokens kept for ${body.resource}. This connection keeps its token until it ends; the next one authorizes from the start.` : `Nothing was kept for ${body.resource}.`;
    } catch (e) {
      $("auth-forgot").textContent = e.message;
    } finally {
      b.disabled = false;
    }
  });
}
