// Entry point: token, the server list, session header, connect form, the workbench panels
// (tools, resources, prompts, logs) and the timeline, all driven by the JSON API and the one
// event stream. The page looks at one session at a time; switching keeps each one's result.

import { takeToken, setToken, call, request, follow, ApiError, setSession, sessionId, sessionPath } from "./api.js";
import { $, el, pretty } from "./dom.js";
import * as timeline from "./timeline.js";
import * as pending from "./pending.js";
import * as inflight from "./inflight.js";
import * as responders from "./responders.js";
import * as tools from "./tools.js";
import * as resources from "./resources.js";
import * as prompts from "./prompts.js";
import * as logs from "./logs.js";
import * as result from "./result.js";
import * as servers from "./servers.js";
import * as catalog from "./catalog.js";

const TIMEOUT_KEY = "mcpscope-timeout-s";

let session = null;
let listedFor = null;
// Per session: its last result (moved out of the page while another session is shown) and the
// tool it had open.
const views = new Map();
// The connect form makes a new session rather than replacing the current one's target.
let connectAsNew = false;
const loadedAt = Date.now();
let lastState = null; // the session (by connect time) whose lists are loaded

function showSession(s) {
  if (s.id && s.id !== sessionId()) return;
  session = s;
  $("server-id").textContent = s.id ? `${s.name || ""} · ${s.id}` : "";
  const state = $("state");
  state.textContent = s.state;
  state.className = `state state-${s.state}`;
  const info = s.serverInfo || {};
  $("server-name").textContent = s.state === "connected" ? (info.title || info.name || "(unnamed server)") : "";
  $("server-version").textContent = s.state === "connected" && info.version !== undefined ? `v${info.version}` : "";
  $("protocol").textContent = s.protocolVersion ? `protocol ${s.protocolVersion}` : "";
  const caps = $("capabilities");
  caps.replaceChildren(...Object.keys(s.capabilities || {}).map((c) => el("span", { class: "cap", text: c })));
  const instr = typeof s.instructions === "string" ? s.instructions : "";
  $("instructions-box").hidden = !instr;
  $("instructions").textContent = instr;
  $("session-error-box").hidden = !s.error;
  $("session-error").textContent = s.error || "";
  $("reconnect").hidden = !(s.state === "failed" && s.target);
  const connected = s.state === "connected";
  $("disconnect").disabled = !(connected || s.state === "connecting");
  const declared = s.capabilities || {};
  $("list-tools").disabled = !connected || !declared.tools;
  $("list-resources").disabled = !connected || !declared.resources;
  $("list-prompts").disabled = !connected || !declared.prompts;
  $("call-tool").disabled = !connected;
  $("send-raw").disabled = !connected;
  logs.onSession(s);
  // The connect form folds away while connected and comes back when the session ends.
  if (s.state !== lastState && !connectAsNew) $("connect-box").open = !connected;
  lastState = s.state;
  $("connect").textContent = connectAsNew || connected ? "Connect as a new server" : "Connect";
  if (!connected) {
    listedFor = null;
    return;
  }
  const key = JSON.stringify([s.id, s.target, s.serverInfo, s.protocolVersion]);
  if (listedFor !== key) {
    listedFor = key;
    loadLists(declared);
  }
}

function loadLists(caps) {
  tools.reset(); resources.reset(); prompts.reset();
  const reopen = views.get(sessionId())?.tool;
  if (caps.tools) tools.list().then(() => { if (reopen) tools.selectByName(reopen); }).catch((e) => notice(e.message));
  if (caps.resources) resources.list().catch((e) => notice(e.message));
  if (caps.prompts) prompts.list().catch((e) => notice(e.message));
}

// Shows one detail panel of the work area.
function show(id) {
  for (const d of document.querySelectorAll(".detail")) d.hidden = d.id !== id;
}

function notice(text) {
  const n = $("notice");
  n.hidden = !text;
  n.textContent = text || "";
}

// One name/value row (environment variables, headers); values are typed like passwords.
function nameValueRow(kind, extra = null, name = "", value = "") {
  const list = $(`${kind}-rows`);
  const i = list.childElementCount;
  const row = el("div", { class: `env-row ${kind}-row` },
    el("label", { for: `${kind}-name-${i}`, text: "Name" }),
    el("input", { id: `${kind}-name-${i}`, class: `${kind}-name`, type: "text", spellcheck: "false", value: name }),
    el("label", { for: `${kind}-value-${i}`, text: "Value" }),
    el("input", { id: `${kind}-value-${i}`, class: `${kind}-value`, type: "password", autocomplete: "off", value }),
    extra,
  );
  row.append(el("button", { type: "button", text: "Remove", onclick: () => row.remove() }));
  list.append(row);
}

function headerRow(name = "", value = "") {
  nameValueRow("header", el("label", { class: "check" }, el("input", { type: "checkbox", class: "header-secret" }), "secret"), name, value);
}

function showTransportFields() {
  const remote = $("transport").value !== "stdio";
  $("remote-fields").hidden = !remote;
  $("stdio-fields").hidden = remote;
}

function envRow(name = "", value = "") {
  nameValueRow("env", null, name, value);
}

// The target the connect form describes, as the connect body has it.
function formTarget() {
  const env = {};
  for (const row of $("env-rows").children) {
    const k = row.querySelector(".env-name").value.trim();
    if (k) env[k] = row.querySelector(".env-value").value;
  }
  const transport = $("transport").value;
  let body;
  if (transport === "stdio") {
    body = {
      transport: "stdio",
      command: $("command").value.trim(),
      args: $("args").value.split("\n").map((a) => a.trim()).filter((a) => a.length),
      env,
    };
    const cwd = $("cwd").value.trim();
    if (cwd) body.cwd = cwd;
  } else {
    const headers = {};
    const secretHeaders = [];
    for (const row of $("header-rows").children) {
      const k = row.querySelector(".header-name").value.trim();
      if (!k) continue;
      headers[k] = row.querySelector(".header-value").value;
      if (row.querySelector(".header-secret").checked) secretHeaders.push(k);
    }
    const bearer = $("bearer").value.trim();
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    body = { url: $("url").value.trim(), headers, secretHeaders };
    if (transport !== "auto") body.transport = transport;
  }
  return body;
}

// The connect form as a catalog entry.
function formSpec() {
  const t = formTarget();
  if (t.transport === "stdio") return { transport: "stdio", command: t.command, args: t.args, env: t.env, cwd: t.cwd ?? null };
  const guessed = /\/sse\/?$/.test((t.url || "").split(/[?#]/)[0]) ? "sse" : "http";
  return { transport: t.transport || guessed, url: t.url, headers: t.headers };
}

// Fills the connect form from a catalog entry (redacted values stay redacted: saving keeps them).
function fillForm(s) {
  $("transport").value = s.transport;
  showTransportFields();
  $("env-rows").replaceChildren();
  $("header-rows").replaceChildren();
  $("bearer").value = "";
  if (s.transport === "stdio") {
    $("command").value = s.command || "";
    $("args").value = (s.args || []).join("\n");
    $("cwd").value = s.cwd || "";
    for (const [k, v] of Object.entries(s.env || {})) envRow(k, v);
  } else {
    $("url").value = s.url || "";
    for (const [k, v] of Object.entries(s.headers || {})) headerRow(k, v);
  }
}

async function connect(ev) {
  ev.preventDefault();
  const body = formTarget();
  const pv = $("protocol-version").value.trim();
  if (pv) body.protocolVersion = pv;
  body.clientCapabilities = chosenCapabilities();
  $("connect").disabled = true;
  try {
    // A connected session keeps its server; the form then adds another one.
    const fresh = connectAsNew || !sessionId() || session?.state === "connected";
    const { body: s } = await call("POST", fresh ? "/api/sessions" : sessionPath("/connect"), body);
    connectAsNew = false;
    await switchTo(s.id, s);
    servers.load().catch(() => {});
  } catch (e) {
    notice(e.message);
  } finally {
    $("connect").disabled = false;
  }
}

function chosenCapabilities() {
  const on = (id) => $(id).checked;
  const caps = {};
  if (on("cap-sampling")) caps.sampling = on("cap-sampling-tools") ? { tools: {} } : {};
  if (on("cap-elicitation-form") || on("cap-elicitation-url")) {
    caps.elicitation = {};
    if (on("cap-elicitation-form")) caps.elicitation.form = {};
    if (on("cap-elicitation-url")) caps.elicitation.url = {};
  }
  if (on("cap-roots")) caps.roots = on("cap-roots-changed") ? { listChanged: true } : {};
  return caps;
}

function timeoutMs() {
  const s = Number($("timeout-s").value);
  return Number.isFinite(s) && s > 0 ? Math.round(s * 1000) : undefined;
}

async function run(method, params, opts = {}) {
  const started = performance.now();
  let body, requestId;
  try {
    ({ body, requestId } = await request(method, params, timeoutMs()));
  } catch (e) {
    body = e instanceof ApiError ? e.body : { error: { message: String(e) } };
  }
  const ms = performance.now() - started;
  $("result-box").hidden = false;
  const isError = body?.error || body?.result?.isError;
  $("result-meta").textContent = [method, requestId ? `request #${requestId}` : "", `${ms.toFixed(0)} ms`, body?.error ? (body.error.kind ? `local error: ${body.error.kind}` : "server error") : body?.result?.isError ? "isError: true" : ""].filter(Boolean).join(" · ");
  $("result").classList.toggle("is-error", Boolean(isError));
  await result.render($("result"), body, { ...opts, onReadResource: (uri) => resources.read(uri) });
  return body;
}

function parseJson(text, what) {
  try { return JSON.parse(text || "{}"); } catch (e) { notice(`${what} is not valid JSON: ${e.message}`); return undefined; }
}

function main() {
  const token = takeToken();
  if (!token) {
    notice("No API token: open the exact URL mcpscope printed when it started (it ends with ?token=…).");
    return;
  }
  setToken(token);
  timeline.init();
  pending.init();
  inflight.init();
  responders.init();
  const savedTimeout = localStorage.getItem(TIMEOUT_KEY);
  if (savedTimeout) $("timeout-s").value = savedTimeout;
  $("timeout-s").addEventListener("change", () => localStorage.setItem(TIMEOUT_KEY, $("timeout-s").value));
  $("connect-form").addEventListener("submit", connect);
  $("add-env").addEventListener("click", () => envRow());
  $("add-header").addEventListener("click", () => headerRow());
  $("transport").addEventListener("change", showTransportFields);
  $("reconnect").addEventListener("click", async () => {
    try {
      const { body: s } = await call("POST", sessionPath("/reconnect"));
      showSession(s);
    } catch (e) { notice(e.message); }
  });
  $("disconnect").addEventListener("click", async () => showSession((await call("POST", sessionPath("/disconnect"))).body));
  $("new-server").addEventListener("click", () => {
    connectAsNew = true;
    $("connect").textContent = "Connect as a new server";
    $("connect-box").open = true;
    $("transport").focus();
  });
  servers.init((id) => switchTo(id).catch((e) => notice(e.message)));
  catalog.init({
    notice, fillForm, formSpec,
    opened: async (s) => { await switchTo(s.id, s); await servers.load(); },
  });
  const ctx = { notice, show, run, session: () => session };
  tools.init(ctx);
  resources.init(ctx);
  prompts.init(ctx);
  logs.init(ctx);
  $("send-raw").addEventListener("click", () => {
    const params = parseJson($("raw-params").value, "Params");
    if (params !== undefined) { notice(""); run($("raw-method").value.trim(), params); }
  });
  follow((event, raw) => {
    const live = Date.parse(event.time) >= loadedAt;
    if (event.kind === "state" && !sessionId() && event.session) switchTo(event.session, event).catch(() => {});
    else if (event.kind === "state") showSession(event);
    if (event.kind === "removed" && event.session === sessionId()) afterRemoval();
    servers.onEvent(event);
    pending.onEvent(event, live);
    inflight.onEvent(event);
    logs.onEvent(event);
    // History replayed after a reload must not re-trigger list refreshes or "updated" marks.
    if (live && (!event.session || event.session === sessionId())) {
      resources.onEvent(event);
      prompts.onEvent(event);
      if (event.kind === "frame" && event.direction === "received" && event.method === "notifications/tools/list_changed" && session?.state === "connected") tools.onListChanged();
    }
    timeline.push(event, raw);
  }, (status) => notice(status === "reconnecting" ? "Event stream interrupted; reconnecting…" : ""));
  // The selected session is the one shown; the backend remembers it across reloads.
  call("GET", "/api/session").then(async ({ body }) => {
    await servers.load();
    if (body.id) await switchTo(body.id, body);
    else showSession(body);
  }).catch((e) => notice(e.status === 401 ? "The token was refused: open the URL mcpscope printed." : e.message));
}

// Shows another session: its header, lists, in-flight requests, logs and timeline rows, and the
// result it last showed. The backend selects it too, so scripts on the single-session routes
// see what the page shows.
async function switchTo(id, known = null) {
  const from = sessionId();
  if (from && from !== id) {
    const box = $("result");
    const stash = document.createDocumentFragment();
    stash.append(...box.childNodes);
    views.set(from, { result: stash, meta: $("result-meta").textContent, shown: !$("result-box").hidden, tool: tools.selectedName() });
  }
  setSession(id);
  if (from !== id) {
    const view = views.get(id);
    $("result").replaceChildren(...(view ? view.result.childNodes : []));
    $("result-meta").textContent = view?.meta || "";
    $("result-box").hidden = !view?.shown;
    for (const d of document.querySelectorAll(".detail")) d.hidden = true;
    listedFor = null;
    lastState = null;
    inflight.reset();
    timeline.refilter();
    logs.refilter();
  }
  servers.render();
  await call("POST", `/api/sessions/${encodeURIComponent(id)}/select`).catch(() => {});
  const s = known || (await call("GET", sessionPath(""))).body;
  showSession(s);
}

// The session shown was removed: show the selected one, or nothing.
async function afterRemoval() {
  views.delete(sessionId());
  const list = await servers.load();
  if (list.length) await switchTo(list[0].id);
  else {
    setSession(null);
    showSession({ state: "disconnected" });
  }
}

main();
