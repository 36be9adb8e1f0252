// The catalog: the servers the user keeps (a file mcpscope rewrites, its path shown) and those of
// `--config` (read-only, duplicable). Each can be connected as a new session, as often as wanted,
// edited through the connect form, duplicated, removed and exported; the whole list exports in
// any client's format. Values that may be secrets come redacted from the backend; sending the
// redacted marker back keeps the stored value.

import { call, callText } from "./api.js";
import { $, el } from "./dom.js";
import { copyButton, download } from "./content.js";
import * as servers from "./servers.js";

// The states in which a session of an entry counts as live (connecting it again makes a twin).
const LIVE = ["connected", "connecting", "authorizing"];

// The live sessions made from the entry `name`.
function liveOf(name) {
  return servers.all().filter((x) => x.catalog === name && LIVE.includes(x.state));
}

const FORMATS = [["claude", "Claude Desktop"], ["cursor", "Cursor"], ["windsurf", "Windsurf"], ["vscode", "VS Code"]];
let ctx = null;
let inputs = [];
let editing = null; // the name of the entry the connect form is editing, if any

const enc = encodeURIComponent;

export async function load() {
  const { body } = await call("GET", "/api/catalog");
  inputs = body.inputs || [];
  $("catalog-path").textContent = body.path;
  const configs = [...new Set(body.servers.filter((s) => s.origin === "config").map((s) => s.source))];
  $("catalog-config").textContent = configs.length ? `and the servers of ${configs.join(", ")} (read-only)` : "";
  $("catalog-list").replaceChildren(...body.servers.map(row));
  $("catalog-count").textContent = body.servers.length ? `(${body.servers.length})` : "";
  markLive();
}

// Each card says whether the entry is connected now, and as which session, with a way to it.
function markLive() {
  for (const li of $("catalog-list").children) {
    const live = liveOf(li.dataset.name);
    const box = li.querySelector(".catalog-live");
    box.hidden = !live.length;
    // A question about a twin is moot once the entry is no longer live.
    if (!live.length) li.querySelector(".twin-question")?.remove();
    box.replaceChildren(...live.flatMap((x) => [
      el("span", { class: `dot state-${x.state}`, "aria-hidden": "true" }),
      el("span", { text: `${x.state} as ${x.id}` }),
      el("button", { type: "button", class: "small", "aria-label": `Show ${x.id}`, onclick: () => ctx.opened(x) }, "Show")]));
  }
}

function summary(s) {
  return s.transport === "stdio" ? [s.command, ...(s.args || [])].join(" ") : `${s.transport} ${s.url}`;
}

function row(s) {
  const status = el("span", { class: "catalog-status muted", role: "status" });
  const ask = el("div", { class: "catalog-inputs" });
  const li = el("li", { class: "catalog-row", "data-name": s.name },
    el("div", { class: "catalog-head" },
      el("span", { class: "catalog-name", text: s.name }),
      s.origin === "config" ? el("span", { class: "session-tag", text: "from --config" }) : null),
    el("div", { class: "catalog-live", hidden: true }),
    el("span", { class: "mono catalog-target", text: summary(s) }),
    s.placeholders.length ? el("span", { class: "muted", text: `needs ${s.placeholders.map((p) => `\${${p}}`).join(", ")}` }) : null,
    el("div", { class: "actions" },
      el("button", { type: "button", class: "primary", "aria-label": `Connect ${s.name}`, onclick: () => connect(s, ask, status) }, "Connect"),
      el("button", { type: "button", "aria-label": `Edit ${s.name}`, hidden: !s.editable, onclick: () => edit(s) }, "Edit"),
      el("button", { type: "button", "aria-label": `Duplicate ${s.name}`, onclick: () => act("POST", `/api/catalog/${enc(s.name)}/duplicate`, status) }, "Duplicate"),
      el("button", { type: "button", "aria-label": `Remove ${s.name} from the catalog`, hidden: !s.editable, onclick: () => act("DELETE", `/api/catalog/${enc(s.name)}`, status) }, "Remove"),
      exportControls(s.name, `Export ${s.name}`)),
    ask, status);
  return li;
}

async function act(method, path, status) {
  try { await call(method, path); await load(); } catch (e) { status.textContent = e.message; }
}

// Connects the entry as a new session; `${input:…}` values are asked for first, never stored.
// An entry that is already live gets a question first: show that session, or make another.
async function connect(s, ask, status, twin = false) {
  const live = liveOf(s.name);
  if (live.length && !twin) {
    status.replaceChildren(el("span", { class: "twin-question" }, `"${s.name}" is already ${live[0].state} as ${live[0].id}. `,
      el("button", { type: "button", class: "primary small", onclick: () => { status.replaceChildren(); ctx.opened(live[0]); } }, `Show ${live[0].id}`),
      " ",
      el("button", { type: "button", class: "small", onclick: () => { status.replaceChildren(); connect(s, ask, status, true); } }, "Connect another")));
    status.querySelector("button").focus();
    return;
  }
  const wanted = s.placeholders.filter((p) => p.startsWith("input:")).map((p) => p.slice(6));
  const fields = [...ask.querySelectorAll("input")];
  if (wanted.length && !fields.length) {
    ask.replaceChildren(...wanted.flatMap((id) => {
      const decl = inputs.find((i) => i.id === id) || {};
      const fid = `input-${s.name}-${id}`.replace(/[^A-Za-z0-9_-]/g, "_");
      return [el("label", { for: fid, text: decl.description ? `${decl.description} (\${input:${id}})` : `\${input:${id}}` }),
        el("input", { id: fid, type: decl.password === false ? "text" : "password", autocomplete: "off", "data-input": id })];
    }), el("button", { type: "button", class: "primary", onclick: () => connect(s, ask, status, true) }, "Connect with these values"));
    ask.querySelector("input").focus();
    return;
  }
  const values = Object.fromEntries(fields.map((f) => [f.dataset.input, f.value]));
  status.textContent = "connecting…";
  try {
    const { body } = await connectEntry(s, values);
    ask.replaceChildren();
    status.textContent = body.state === "connected" ? "" : `${body.state}: ${body.error || ""}`;
    await ctx.opened(body);
  } catch (e) {
    status.textContent = e.message;
  }
}

// `${env:NAME}` in a remote entry's URL or headers would send mcpscope's own environment to
// that host: the backend refuses until the user, asked by name and host, allows each one.
async function connectEntry(s, inputs, allowEnv = []) {
  try {
    return await call("POST", `/api/catalog/${enc(s.name)}/connect`, { inputs, allowEnv });
  } catch (e) {
    const asked = [...e.message.matchAll(/\$\{env:([^}]+)\} would send mcpscope's own environment variable \S+ to (.+?): allow it first/g)];
    if (!asked.length || allowEnv.length) throw e;
    const names = [...new Set(asked.map((m) => m[1]))];
    const host = asked[0][2];
    if (!window.confirm(`"${s.name}" sends the value of ${names.join(", ")} from mcpscope's own environment to ${host}.\n\nSend ${names.length > 1 ? "them" : "it"}?`)) throw new Error(`not connected: ${names.join(", ")} not allowed for ${host}`);
    return connectEntry(s, inputs, names);
  }
}

// The connect form takes the entry's values; "Save to catalog" then replaces it.
function edit(s) {
  editing = s.name;
  ctx.fillForm(s);
  $("catalog-name").value = s.name;
  $("save-catalog").textContent = `Save changes to "${s.name}"`;
  $("connect-box").open = true;
  $("catalog-name").focus();
}

async function save() {
  const status = $("save-catalog-status");
  const name = $("catalog-name").value.trim();
  if (!name) { status.textContent = "Give the server a name first."; $("catalog-name").focus(); return; }
  const body = { name, ...ctx.formSpec() };
  try {
    if (editing) await call("PUT", `/api/catalog/${enc(editing)}`, body);
    else await call("POST", "/api/catalog", body);
    status.textContent = `saved "${name}"`;
    editing = null;
    $("save-catalog").textContent = "Save to catalog";
    await load();
  } catch (e) {
    status.textContent = e.message;
  }
}

// Imports a config file of any client (its format is read from it): its servers join the
// catalog, and its `inputs` declarations with them, so `${input:…}` keeps its meaning.
async function importFile() {
  const text = $("catalog-import-text").value;
  const status = $("catalog-import-status");
  if (!text.trim()) { status.textContent = "Choose a file or paste one first."; return; }
  try {
    const { body } = await callText("POST", "/api/catalog/import", text);
    const n = body.imported;
    status.textContent = `Imported ${n} server${n === 1 ? "" : "s"}${body.inputs?.length ? `; the catalog declares ${body.inputs.map((i) => i.id).join(", ")} for \${input:…}` : ""}.`;
    $("catalog-import-text").value = "";
    $("catalog-import-file").value = "";
    await load();
  } catch (e) {
    status.textContent = `Not imported: ${e.message}`;
  }
}

// A format choice with Copy and Download, for one entry (`name`) or all of them, and the file
// itself to read first, with what the chosen client cannot use in it (a placeholder it does
// not expand, say).
function exportControls(name, label) {
  const id = `export-${name ?? "all"}`.replace(/[^A-Za-z0-9_-]/g, "_");
  const format = el("select", { id, "aria-label": `${label}: format` }, ...FORMATS.map(([v, t]) => el("option", { value: v, text: t })));
  const secrets = el("input", { type: "checkbox", id: `${id}-secrets` });
  const slot = el("span", { class: "export-download" });
  const warnings = el("ul", { class: "export-warnings", "aria-label": "What this client cannot use" });
  const preview = el("pre", { class: "json export-preview", tabindex: "0", "aria-label": "The file" });
  let text = "";
  let asked = 0; // only the latest answer is shown (a quick change of format races the one before)
  const refresh = async () => {
    const mine = ++asked;
    const q = new URLSearchParams({ format: format.value, preview: "1" });
    if (name) q.set("name", name);
    if (secrets.checked) q.set("secrets", "include");
    try {
      const { body } = await call("GET", `/api/catalog/export?${q}`);
      if (mine !== asked) return;
      text = body.text;
      warnings.replaceChildren(...body.warnings.map((w) => el("li", { text: w })));
      slot.replaceChildren(download(body.fileName, text));
    } catch (e) {
      if (mine !== asked) return;
      text = "";
      warnings.replaceChildren(el("li", { text: e.message }));
      slot.replaceChildren();
    }
    preview.textContent = text;
  };
  format.addEventListener("change", refresh);
  secrets.addEventListener("change", refresh);
  const box = el("details", { class: "export" },
    el("summary", { text: name ? "Export" : "Export all" }),
    el("label", { for: id, text: "Format" }), format,
    el("label", { class: "check" }, secrets, "include secret values"),
    warnings, preview,
    el("div", { class: "actions" }, copyButton(() => text), slot));
  // Fetched when opened, so listing the catalog costs one request, not one per entry.
  box.addEventListener("toggle", () => { if (box.open && !text) refresh(); });
  return box;
}

export function init(context) {
  ctx = context;
  servers.onLoad(markLive);
  $("save-catalog").addEventListener("click", save);
  $("catalog-export-all").append(exportControls(null, "Export the whole catalog"));
  $("catalog-import-file").addEventListener("change", async () => {
    const file = $("catalog-import-file").files[0];
    if (file) $("catalog-import-text").value = await file.text();
  });
  $("catalog-import-run").addEventListener("click", importFile);
  load().catch((e) => ctx.notice(e.message));
}
