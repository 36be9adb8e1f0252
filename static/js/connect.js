// The connect form: transport, command or URL, environment and headers (values typed like
// passwords), working directory, protocol version and the client capabilities to declare. It
// connects the session shown while that one is not connected, else makes a new session; it also
// describes itself as a catalog entry and fills itself from one.

import { call, sessionId, sessionPath, showsPast } from "./api.js";
import { $, el } from "./dom.js";
import * as servers from "./servers.js";

let ctx = null;
// The next connect makes a new session rather than replacing the current one's target.
let asNew = false;
let lastState = null;

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
  $("cwd-field").hidden = remote;
  optionsSummary();
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
    const oauth = {};
    for (const [id, key] of [["oauth-client-id", "clientId"], ["oauth-client-secret", "clientSecret"], ["oauth-metadata-url", "clientMetadataUrl"], ["oauth-scopes", "scopes"]]) {
      const v = $(id).value.trim();
      if (v) oauth[key] = v;
    }
    if ($("oauth-step").checked) oauth.stepByStep = true;
    if (Object.keys(oauth).length) body.oauth = oauth;
  }
  return body;
}

// The connect form as a catalog entry.
export function formSpec() {
  const t = formTarget();
  if (t.transport === "stdio") return { transport: "stdio", command: t.command, args: t.args, env: t.env, cwd: t.cwd ?? null };
  const guessed = /\/sse\/?$/.test((t.url || "").split(/[?#]/)[0]) ? "sse" : "http";
  return { transport: t.transport || guessed, url: t.url, headers: t.headers };
}

// Fills the connect form from a catalog entry (redacted values stay redacted: saving keeps them).
export function fillForm(s) {
  $("transport").value = s.transport;
  showTransportFields();
  $("env-rows").replaceChildren();
  $("header-rows").replaceChildren();
  $("bearer").value = "";
  // An entry's own "era" (kept in its extra fields), else the default.
  const era = s.extra?.era;
  $("era").value = ["legacy", "auto", "modern"].includes(era) ? era : "legacy";
  if (s.transport === "stdio") {
    $("command").value = s.command || "";
    $("args").value = (s.args || []).join("\n");
    $("cwd").value = s.cwd || "";
    for (const [k, v] of Object.entries(s.env || {})) envRow(k, v);
  } else {
    $("url").value = s.url || "";
    for (const [k, v] of Object.entries(s.headers || {})) headerRow(k, v);
  }
  optionsSummary();
}

async function connect(ev) {
  ev.preventDefault();
  const { notice } = ctx;
  const body = formTarget();
  const pv = $("protocol-version").value.trim();
  if (pv) body.protocolVersion = pv;
  body.era = $("era").value;
  body.clientCapabilities = chosenCapabilities();
  // Off: the server sees a host without MCP Apps, and shows its text-only fallback.
  if (!$("cap-apps").checked) body.apps = false;
  $("connect").disabled = true;
  try {
    // A connected session keeps its server; the form then adds another one.
    const fresh = asNew || !sessionId() || ctx.session()?.state === "connected";
    const { body: s } = await call("POST", fresh ? "/api/sessions" : sessionPath("/connect"), body);
    asNew = false;
    $("connect-box").classList.remove("as-new");
    await ctx.switchTo(s.id, s);
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
  // The client runs the server's sampling and elicitation requests as tasks when asked to.
  if (on("cap-tasks") && (caps.sampling || caps.elicitation)) {
    caps.tasks = { list: {}, cancel: {}, requests: {} };
    if (caps.sampling) caps.tasks.requests.sampling = { createMessage: {} };
    if (caps.elicitation) caps.tasks.requests.elicitation = { create: {} };
  }
  return caps;
}

// The form folds away while connected (or showing a recording, which never connects) and comes
// back when the session ends; its button says what it will do.
export function onSession(s) {
  const connected = s.state === "connected" || showsPast(s);
  if (s.state !== lastState && !asNew) $("connect-box").open = !connected;
  lastState = s.state;
  $("connect").textContent = asNew || connected ? "Connect as a new server" : "Connect";
}

// Another session is shown: the fold follows its state afresh.
export function forget() {
  lastState = null;
  // "New server" was for the session shown then.
  asNew = false;
  $("connect-box").classList.remove("as-new");
}

// "New server": the form makes a new session.
export function openAsNew() {
  asNew = true;
  $("connect-box").classList.add("as-new");
  $("connect").textContent = "Connect as a new server";
  $("connect-box").open = true;
  $("transport").focus();
}

// The folded options in one line, so what a connect will use is seen without opening them.
function optionsSummary() {
  const caps = [...$("connect-options").querySelectorAll(".caps-choice input")];
  const off = caps.filter((c) => !c.checked).map((c) => c.parentElement.textContent.trim());
  const cwd = $("cwd").value.trim();
  $("connect-options-summary").textContent = [
    `${$("era").value} era`,
    $("era").value === "modern" ? "" : $("protocol-version").value.trim(),
    off.length ? `without ${off.join(", ")}` : "every capability",
    cwd && !$("cwd-field").hidden ? `in ${cwd}` : "",
  ].filter(Boolean).join(" · ");
}

// The config entry that runs the form's server through `mcpscope tap`, reporting here: what a
// user pastes into a real client's config to watch its traffic.
function tapLine() {
  const t = formTarget();
  const entry = {
    command: $("connect-form").dataset.demoCommand,
    args: ["tap", "--to", location.origin, "--", t.command || "COMMAND", ...(t.args || [])],
  };
  if (Object.keys(t.env || {}).length) entry.env = t.env;
  $("tap-line").textContent = JSON.stringify(entry, null, 2);
}

export function init(context) {
  ctx = context;
  for (const type of ["input", "change"]) $("stdio-fields").addEventListener(type, tapLine);
  $("tap-box").addEventListener("toggle", tapLine);
  $("tap-copy").addEventListener("click", async () => {
    try { await navigator.clipboard.writeText($("tap-line").textContent); $("tap-copy").textContent = "Copied"; } catch { $("tap-copy").textContent = "Copy failed"; }
  });
  for (const type of ["input", "change"]) $("connect-options").addEventListener(type, optionsSummary);
  optionsSummary();
  $("connect-form").addEventListener("submit", connect);
  $("add-env").addEventListener("click", () => envRow());
  $("add-header").addEventListener("click", () => headerRow());
  $("transport").addEventListener("change", showTransportFields);
}
