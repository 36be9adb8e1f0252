// Entry point: token, theme, the header's server block, the lists and the detail pane, the dock
// and the palette, all driven by the JSON API and the one event stream. The page looks at one
// session at a time; switching keeps each one's open item (its answers live in workbench.js).

import { takeToken, setToken, call, follow, setSession, sessionId, sessionPath, showsPast } from "./api.js";
import { $, el } from "./dom.js";
import * as timeline from "./timeline.js";
import * as pending from "./pending.js";
import * as inflight from "./inflight.js";
import * as responders from "./responders.js";
import * as tools from "./tools.js";
import * as resources from "./resources.js";
import * as prompts from "./prompts.js";
import * as logs from "./logs.js";
import * as servers from "./servers.js";
import * as catalog from "./catalog.js";
import * as connect from "./connect.js";
import * as items from "./items.js";
import * as workbench from "./workbench.js";
import * as dock from "./dock.js";
import * as palette from "./palette.js";
import * as theme from "./theme.js";
import * as tasks from "./tasks.js";
import * as findings from "./findings.js";
import * as auth from "./auth.js";
import * as store from "./store.js";
import * as apps from "./apps.js";
import * as chat from "./chat.js";

const TIMEOUT_KEY = "mcpscope-timeout-s";

let session = null;
let listedFor = null;
// The session whose lists the page shows (they must never be another session's).
let listsOf = null;
const loadedAt = Date.now();
const TAPPED_LISTS = ["tools/list", "resources/list", "resources/templates/list", "prompts/list"];
let relistTapped = null;
// The item the URL names, opened once the lists of its session have loaded.
let wanted = null;

function showSession(s) {
  if (s.id && s.id !== sessionId()) return;
  // An opened recording's own state events are history: they must not make it look live.
  if (session?.state === "recorded" && session.id === s.id && s.state !== "recorded") return;
  session = s;
  $("server-id").textContent = s.id ? `${s.name || ""} · ${s.id}` : "";
  $("server-id").title = $("server-id").textContent;
  const state = $("state");
  state.textContent = s.tapped ? `tapped · ${s.state}` : s.state;
  state.className = `state state-${s.state}`;
  // An opened recording, or a tapped session, shows its server as it was, and lists what passed.
  const recorded = showsPast(s);
  // Nothing is sent on either: no Connect, Refresh or Call on it (the CSS hides them, and says
  // what the item shows instead). "New server" still adds a live one beside it.
  document.body.classList.toggle("showing-recording", recorded);
  showServerInfo(s.state === "connected" || recorded ? s.serverInfo || {} : null);
  // The version's own shape says what it is; the word is on hover, to keep the header short.
  $("protocol").textContent = s.protocolVersion ? `${s.protocolVersion}${s.era ? ` · ${s.era} era` : ""}` : "";
  $("protocol").title = s.protocolVersion ? `protocol version ${s.protocolVersion}${s.era ? `, ${s.era} era` : ""}` : "";
  showListen(s.state === "connected" ? s.listen : null);
  $("capabilities").replaceChildren(...Object.keys(s.capabilities || {}).map((c) => el("span", { class: "cap", text: c })));
  $("capabilities").title = Object.keys(s.capabilities || {}).length ? `server capabilities: ${Object.keys(s.capabilities).join(", ")}` : "";
  const instr = typeof s.instructions === "string" ? s.instructions : "";
  $("instructions-box").hidden = !instr;
  $("instructions").textContent = instr;
  // Reconnect whenever the session is down, failed or cleanly disconnected alike.
  const down = Boolean(s.target) && !s.tapped && !["connected", "connecting", "authorizing", "recorded"].includes(s.state);
  $("session-error-box").hidden = !s.error && !down;
  $("session-error-box").classList.toggle("is-quiet", !s.error);
  $("session-error").setAttribute("role", s.error ? "alert" : "status");
  $("session-error").textContent = s.error || (down ? `${s.state}: Reconnect starts the same server again with the same settings.` : "");
  $("tap-note").hidden = !s.tapped;
  $("reconnect").hidden = !down;
  const connected = s.state === "connected" && !s.tapped;
  $("disconnect").disabled = !(connected || s.state === "connecting");
  const declared = s.capabilities || {};
  $("list-tools").disabled = !connected || !declared.tools;
  $("list-resources").disabled = !connected || !declared.resources;
  $("list-prompts").disabled = !connected || !declared.prompts;
  for (const id of ["call-tool", "send-raw", "read-resource", "read-template", "get-prompt"]) $(id).disabled = !connected;
  logs.onSession(s);
  auth.backfill(s);
  responders.onSession(s);
  resources.onSession(s);
  connect.onSession(s);
  if (!connected && !recorded) {
    listedFor = null;
    workbench.holdHash(false);
    // A session that is failed, authorizing or connecting has no lists yet: never show the
    // previous server's in their place (they could be opened and called).
    if (listsOf !== s.id) {
      tools.reset(); resources.reset(); prompts.reset();
      listsOf = s.id;
    }
    return;
  }
  const key = JSON.stringify([s.id, s.target, s.serverInfo, s.protocolVersion]);
  if (listedFor !== key) {
    listedFor = key;
    loadLists(declared);
  }
}

// The modern era's subscriptions/listen stream: its state in words, what the server honoured,
// and "Listen again" when it is not listening.
function showListen(listen) {
  const box = $("listen-state");
  box.hidden = !listen;
  $("relisten").hidden = !listen || !["dropped", "closed", "failed"].includes(listen.state);
  if (!listen) return;
  const ack = listen.acknowledged || {};
  const kinds = [["toolsListChanged", "tools"], ["promptsListChanged", "prompts"], ["resourcesListChanged", "resources"]]
    .filter(([k]) => ack[k] === true).map(([, name]) => name);
  const uris = Array.isArray(ack.resourceSubscriptions) ? ack.resourceSubscriptions.length : 0;
  const heard = [kinds.length ? `${kinds.join(", ")} list changes` : "", uris ? `${uris} resource${uris === 1 ? "" : "s"}` : ""].filter(Boolean).join("; ");
  // The header is crowded: the word here, the details on hover and for screen readers.
  box.textContent = listen.state === "listening" ? "listening" : `listen ${listen.state}`;
  box.className = `listen-state listen-${listen.state}`;
  const detail = [`subscriptions/listen${listen.requestId != null ? ` #${listen.requestId}` : ""}`,
    listen.state === "listening" ? (heard ? `hears ${heard}` : "hears nothing") : listen.reason || ""].filter(Boolean).join(": ");
  box.title = detail;
  box.setAttribute("aria-label", detail);
}

// serverInfo.websiteUrl when it is an http(s) URL: the only kind the header offers to open.
function website(info) {
  const url = info?.websiteUrl;
  return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
}

// The header's server block: title, wire name, version, website (opened only on a click, and
// only http(s)), and an icon when it is a data: image (nothing is fetched from the server).
function showServerInfo(info) {
  const i = info || {};
  $("server-name").textContent = info ? (i.title || i.name || "(unnamed server)") : "";
  $("server-name").title = $("server-name").textContent; // whole, when the header cuts it short
  $("server-wire-name").textContent = info && i.name !== undefined ? String(i.name) : "";
  $("server-version").textContent = info && i.version !== undefined ? `v${i.version}` : "";
  const site = website(i);
  $("server-website").hidden = !site;
  $("server-website").textContent = site ? new URL(site).host : "";
  $("server-website").title = site ? `Open ${site} (serverInfo.websiteUrl)` : "";
  const icon = (Array.isArray(i.icons) ? i.icons : []).map((x) => x?.src).find((src) => typeof src === "string" && src.startsWith("data:image/"));
  $("server-icon").hidden = !icon;
  if (icon) $("server-icon").src = icon; else $("server-icon").removeAttribute("src");
}

function loadLists(caps) {
  tools.reset(); resources.reset(); prompts.reset();
  const id = sessionId();
  listsOf = id;
  const open = workbench.current();
  // What to open once they are in: the item the URL names; else the open item (lists loaded
  // again keep it); else the one this session last had open. A URL that names only the server
  // opens nothing, unless an item is open already (lists loaded again before the first load
  // was done closed a tool the user had opened from them).
  const named = wanted?.session === id && (wanted.item || !open);
  const reopen = named ? wanted.item : open ? items.keyOf(open.kind, open.key) : store.peek(id)?.view;
  const loads = [];
  // An opened recording lists what it recorded; a list it never asked for is simply empty.
  const failed = (e) => { if (!(showsPast(session) && e.status === 404)) notice(e.message); };
  if (caps.tools) loads.push(tools.list().catch(failed));
  if (caps.resources) loads.push(resources.list().catch(failed));
  if (caps.prompts) loads.push(prompts.list().catch(failed));
  Promise.all(loads).then(() => {
    if (sessionId() !== id) return;
    if (wanted?.session === id) wanted = null;
    // An item the user opened from a list that came first, while the others still loaded, is
    // their choice: it stays open, whatever was to be reopened.
    const now = workbench.current();
    const chosen = now && now !== open;
    if (!chosen && !workbench.reopen(reopen)) workbench.show(null);
    workbench.holdHash(false);
    workbench.writeHash();
  });
}

function notice(text) {
  const n = $("notice");
  n.hidden = !text;
  n.textContent = text || "";
}

function parseJson(text, what) {
  try { return JSON.parse(text || "{}"); } catch (e) { notice(`${what} is not valid JSON: ${e.message}`); return undefined; }
}

function main() {
  theme.init();
  const token = takeToken();
  if (!token) {
    notice("No API token: open the exact URL mcpscope printed when it started (it ends with ?token=…).");
    return;
  }
  setToken(token);
  wanted = workbench.readHash();
  if (wanted.session) workbench.holdHash(true);
  const ctx = { notice, session: () => session, switchTo: (id, s) => switchTo(id, s) };
  items.init();
  workbench.init();
  timeline.init();
  dock.init();
  pending.init();
  inflight.init();
  responders.init();
  connect.init(ctx);
  const savedTimeout = localStorage.getItem(TIMEOUT_KEY);
  if (savedTimeout) $("timeout-s").value = savedTimeout;
  $("timeout-s").addEventListener("change", () => localStorage.setItem(TIMEOUT_KEY, $("timeout-s").value));
  $("reconnect").addEventListener("click", async () => {
    try { showSession((await call("POST", sessionPath("/reconnect"))).body); } catch (e) { notice(e.message); }
  });
  $("relisten").addEventListener("click", () => call("POST", sessionPath("/listen")).catch((e) => notice(e.message)));
  $("disconnect").addEventListener("click", async () => showSession((await call("POST", sessionPath("/disconnect"))).body));
  $("server-website").addEventListener("click", () => {
    const url = website(session?.serverInfo);
    if (url) window.open(url, "_blank", "noopener,noreferrer");
  });
  $("new-server").addEventListener("click", () => connect.openAsNew());
  servers.init((id) => switchTo(id).catch((e) => notice(e.message)));
  // The tab's title counts the server requests waiting for a person, so a tab in the background
  // still says when a server asks. A hidden page holds no event stream (api.js), so it reads the
  // server list now and then instead: one short request, no connection kept.
  servers.onLoad((list) => {
    const waiting = list.reduce((n, s) => n + (s.pending || 0), 0);
    document.title = waiting ? `(${waiting}) mcpscope` : "mcpscope";
  });
  setInterval(() => { if (document.visibilityState === "hidden") servers.load().catch(() => {}); }, 5000);
  catalog.init({
    notice, fillForm: connect.fillForm, formSpec: connect.formSpec,
    opened: async (s) => { await switchTo(s.id, s); await servers.load(); },
  });
  tools.init(ctx);
  apps.init({
    session: ctx.session,
    // The page's list, while it shows the app's server; else the host asks the session.
    toolNamed: (session, name) => (session === sessionId() ? tools.all().find((t) => t.name === name) : null) ?? null,
    version: document.querySelector(".brand .version")?.textContent.trim() || "",
  });
  resources.init(ctx);
  prompts.init(ctx);
  logs.init(ctx);
  tasks.init();
  findings.init();
  auth.init();
  workbench.opener("raw", () => { openRaw(); return true; });
  workbench.opener("chat", () => { workbench.show("chat", "model"); return true; });
  $("open-chat").addEventListener("click", () => workbench.show("chat", "model"));
  chat.init();
  $("open-raw").addEventListener("click", openRaw);
  $("raw-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const params = parseJson($("raw-params").value, "Params");
    if (params !== undefined) { notice(""); workbench.run($("raw-method").value.trim(), params); }
  });
  palette.init({ tools, resources, prompts, openRaw, connect, servers, switchTo: (id) => switchTo(id).catch((e) => notice(e.message)), focusFirst: workbench.focusFirst });
  items.onKeyboardOpen(workbench.focusFirst);
  // Back, Forward and an edited address: the view follows the URL.
  window.addEventListener("popstate", () => {
    const w = workbench.readHash();
    if (w.session && w.session !== sessionId()) {
      wanted = w;
      workbench.holdHash(true);
      switchTo(w.session).catch((e) => { workbench.holdHash(false); notice(e.message); });
    } else if (!w.item) workbench.show(null);
    else if (!workbench.reopen(w.item)) notice(`${w.item} is not in the lists of this server`);
  });
  follow((event, raw) => {
    // The timeline shows every event, whatever a view that reads it throws.
    try {
      const live = Date.parse(event.time) >= loadedAt;
      // A state from history may be long past (an opened recording's always is): it never shows,
      // a session is fetched for its own state then, and the shown one already has it.
      if (event.kind === "state" && !sessionId() && event.session) switchTo(event.session, live ? event : null).catch(() => {});
      else if (event.kind === "state" && live) showSession(event);
      if (event.kind === "removed" && event.session === sessionId()) afterRemoval();
      servers.onEvent(event);
      pending.onEvent(event, live);
      inflight.onEvent(event);
      logs.onEvent(event);
      tasks.onEvent(event);
      findings.onEvent(event);
      auth.onEvent(event);
      if (live) chat.onEvent(event);
      // History replayed after a reload must not re-trigger list refreshes or "updated" marks.
      if (live && (!event.session || event.session === sessionId())) {
        resources.onEvent(event);
        prompts.onEvent(event);
        if (event.kind === "frame" && event.direction === "received" && event.method === "notifications/tools/list_changed" && session?.state === "connected") tools.onListChanged(event);
        // A tapped session lists what its client listed: a list answer passing by lists again.
        if (session?.tapped && event.kind === "frame" && event.direction === "received" && TAPPED_LISTS.includes(event.requestMethod)) {
          clearTimeout(relistTapped);
          relistTapped = setTimeout(() => { if (session?.tapped) loadLists(session.capabilities || {}); }, 150);
        }
      }
    } finally {
      timeline.push(event, raw);
    }
  }, (status) => notice(status === "reconnecting" ? "Event stream interrupted; reconnecting…" : ""), (after, newest) => {
    timeline.started(after, newest);
    logs.started();
    auth.started(session);
  });
  // The session the URL names, else the selected one (the backend remembers it across reloads).
  call("GET", "/api/session").then(async ({ body }) => {
    const list = await servers.load();
    const fromHash = wanted?.session && list.find((s) => s.id === wanted.session);
    if (fromHash) await switchTo(fromHash.id);
    else {
      workbench.holdHash(false);
      if (body.id) await switchTo(body.id, body);
      else showSession(body);
    }
  }).catch((e) => notice(e.status === 401 ? "The token was refused: open the URL mcpscope printed." : e.message));
}

function openRaw() {
  workbench.show("raw", "request");
}

// Shows another session: its header, lists, in-flight requests, logs and timeline rows, and the
// item it last had open. The backend selects it too, so scripts on the single-session routes
// see what the page shows.
async function switchTo(id, known = null) {
  const from = sessionId();
  if (from && from !== id) {
    const open = workbench.current();
    const kept = store.of(from);
    kept.view = open ? items.keyOf(open.kind, open.key) : null;
    kept.search = items.search();
  }
  setSession(id);
  if (from !== id) {
    // One history step per switch, written once the session's view is up (its item reopened).
    workbench.holdHash(true);
    workbench.show(null);
    items.setSearch(store.peek(id)?.search ?? "");
    listedFor = null;
    // The other server's lists go now, and any of theirs still on the way is dropped: until
    // this one's come, an item found there could be opened and called on this server.
    tools.reset(); resources.reset(); prompts.reset();
    listsOf = id;
    connect.forget();
    inflight.reset();
    timeline.refilter();
    logs.refilter();
    tasks.renderAll();
    findings.reset();
    auth.render();
    tasks.load();
  }
  servers.render();
  // A state already in hand is shown at once: shown after the await below, it could be older
  // than a state event that arrived meanwhile, and would make the lists load a second time.
  if (known) showSession(known);
  await call("POST", `/api/sessions/${encodeURIComponent(id)}/select`).catch(() => {});
  if (!known) showSession((await call("GET", sessionPath(""))).body);
  workbench.writeHash();
}

// The session shown was removed: show the selected one, or nothing.
async function afterRemoval() {
  store.forget(sessionId());
  const list = await servers.load();
  if (list.length) await switchTo(list[0].id);
  else {
    setSession(null);
    showSession({ state: "disconnected" });
  }
}

main();
