// The tools panel: the list (title > annotations.title > name with the wire name beside it,
// annotation badges with explicit values told apart from the spec's defaults, data: icons only,
// pages appended within one load, "load all"), the form generated from inputSchema kept in sync
// with a raw-JSON box, validation before sending (sending anyway is allowed), the last
// arguments per tool remembered, and the call.

import { call, Pager, showsPast } from "./api.js";
import { $, el, pretty } from "./dom.js";
import * as items from "./items.js";
import * as workbench from "./workbench.js";
import { model, initialValue } from "./schema.js";
import { widget } from "./form.js";
import { viewUri, visibleTo } from "./apphost.js";

const HINTS = [
  ["readOnlyHint", "read-only", false],
  ["destructiveHint", "destructive", true],
  ["idempotentHint", "idempotent", false],
  ["openWorldHint", "open-world", true],
];

let tools = [];
const pager = new Pager("tools/list", "tools");
let selected = null;
let form = null;
let ctx = null;
// The seq of the newest tools/list_changed seen, and whether the next load must list again.
let since = 0;
let refresh = false;

// The open tool's name, so a session shown again reopens it.
export function selectedName() {
  return selected?.name ?? null;
}

export function selectByName(name) {
  const t = tools.find((x) => x.name === name);
  if (t) select(t);
  return Boolean(t);
}

export function all() { return tools; }

export function title(t) {
  return t.title || t.annotations?.title || t.name;
}

function badges(t) {
  const a = t.annotations || {};
  return HINTS.map(([key, name, dflt]) => {
    const explicit = typeof a[key] === "boolean";
    const value = explicit ? a[key] : dflt;
    // readOnly true means destructive/idempotent do not apply; still shown, as the server said.
    return el("span", {
      class: `badge ${value ? "on" : "off"} ${explicit ? "explicit" : "default"}`,
      title: explicit ? `${key}: ${value} (set by the server)` : `${key}: ${value} (the spec's default; the server did not say)`,
      text: `${value ? "" : "not "}${name}${explicit ? "" : "*"}`,
    });
  });
}

function icon(t) {
  const src = (t.icons || []).map((i) => i?.src).find((s) => typeof s === "string" && s.startsWith("data:image/"));
  return src ? el("img", { class: "icon", src, alt: "" }) : null;
}

// MCP Apps: a tool with a view, and who may call it (`_meta.ui.visibility`).
function appBadges(t) {
  const uri = viewUri(t);
  const model = visibleTo(t, "model");
  const app = visibleTo(t, "app");
  if (!uri && model && app) return null;
  return el("span", { class: "item-badges" },
    uri ? el("span", { class: "badge app-badge", title: `Renders the MCP App view ${uri}`, text: "app view" }) : null,
    !model ? el("span", { class: "badge", title: "_meta.ui.visibility lacks \"model\": a model never sees this tool; apps may call it", text: "app-only" }) : null,
    !app ? el("span", { class: "badge", title: "_meta.ui.visibility lacks \"app\": apps may not call it", text: "model-only" }) : null);
}

function renderList() {
  items.fill("tool-list", tools.map((t) => items.button({
    kind: "tool", key: t.name, title: title(t), name: t.name, desc: t.description, icon: icon(t),
    extra: appBadges(t), onSelect: () => select(t),
  })));
  $("tools-more").hidden = !pager.more;
  $("tools-all").hidden = !pager.more;
}

async function page(walk) {
  const got = await pager.next(walk, { since, refresh });
  if (!got) return;
  items.listError("tools", "tools/list", got.error);
  if (got.first && !got.error) items.cacheHint("tools", got.result);
  tools.push(...got.items);
  renderList();
}

export async function list(opts = {}) {
  refresh = Boolean(opts.refresh);
  const walk = pager.restart();
  tools = [];
  await page(walk);
  if (!pager.current(walk)) return;
  if (selected) {
    const again = tools.find((t) => t.name === selected.name);
    if (again) selected = again;
  }
}

function storeKey(name) { return `mcpscope-args:${name}`; }

function syncRawFromForm() {
  if (!form) return;
  const v = form.get();
  $("tool-args").value = pretty(v === undefined ? {} : v);
  localStorage.setItem(storeKey(selected.name), $("tool-args").value);
  clearErrors();
}

function clearErrors() {
  $("arg-errors").replaceChildren();
  $("call-anyway").hidden = true;
  for (const e of $("tool-form").querySelectorAll(".field-error")) e.remove();
  for (const f of $("tool-form").querySelectorAll(".field.invalid")) f.classList.remove("invalid");
}

// The field a JSON pointer names in the rendered form: object members by `data-field`, array
// items by position.
function fieldAt(path) {
  let node = $("tool-form");
  let found = null;
  for (const raw of path.split("/").slice(1)) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    const items = node.querySelector(".array-items, .tuple");
    const field = [...node.querySelectorAll("[data-field]")].find((f) => f.dataset.field === seg);
    if (field) { node = field; found = field; continue; }
    if (items && /^\d+$/.test(seg) && items.children[Number(seg)]) { node = items.children[Number(seg)]; continue; }
    break;
  }
  return found;
}

function showErrors(errors) {
  $("arg-errors").replaceChildren(...errors.map((e) => el("li", { text: `${e.path || "(arguments)"}: ${e.message}` })));
  if ($("raw-mode").checked) return;
  for (const e of errors) {
    // A missing required member is reported on its parent; name the member itself when we can.
    const missing = e.message.match(/^"([^"]+)" is a required property/);
    const target = fieldAt(missing ? `${e.path}/${missing[1]}` : e.path);
    if (!target) continue;
    target.classList.add("invalid");
    target.append(el("div", { class: "field-error", role: "alert", text: e.message }));
  }
}

// "Run as task" (2025-11-25 tasks): offered when the tool's execution.taskSupport allows it;
// checked and fixed when it requires it; refused while the server does not declare
// tasks.requests.tools.call. The modern era has no such choice: the server decides.
function taskOption(t) {
  const support = t.execution?.taskSupport;
  const s = ctx.session() || {};
  const show = (support === "optional" || support === "required") && s.era !== "modern";
  $("task-option").hidden = !show;
  if (!show) { $("run-as-task").checked = false; return; }
  const declared = Boolean(s.capabilities?.tasks?.requests?.tools?.call);
  $("run-as-task").checked = declared && support === "required";
  $("run-as-task").disabled = !declared || support === "required";
  $("task-support").textContent = declared
    ? `execution.taskSupport: ${support}`
    : `execution.taskSupport: ${support}, but the server does not declare tasks.requests.tools.call`;
}

export function select(t) {
  selected = t;
  workbench.show("tool", t.name);
  $("tool-name").textContent = title(t);
  $("tool-wire-name").textContent = t.name;
  $("tool-badges").replaceChildren(...badges(t), appBadges(t) ?? "");
  taskOption(t);
  $("tool-description").textContent = t.description || "";
  $("tool-schema").textContent = pretty(t.inputSchema);
  const m = model(t.inputSchema || { type: "object" });
  form = widget(m, true, syncRawFromForm);
  $("tool-form").replaceChildren(form.node);
  const saved = localStorage.getItem(storeKey(t.name));
  let start = initialValue(m, true) ?? {};
  if (saved) { try { start = JSON.parse(saved); } catch { /* keep defaults */ } }
  form.set(start);
  $("tool-args").value = pretty(start);
  clearErrors();
  if (showsPast(ctx.session())) {
    workbench.showRecorded("tools/call", { name: t.name }).then((newest) => {
      if (!newest || selected !== t) return;
      form.set(newest.params.arguments ?? {});
      $("tool-args").value = pretty(newest.params.arguments ?? {});
    }).catch((e) => ctx.notice(e.message));
  }
}

function currentArgs() {
  if ($("raw-mode").checked) {
    try { return JSON.parse($("tool-args").value || "{}"); } catch (e) { ctx.notice(`Arguments are not valid JSON: ${e.message}`); return undefined; }
  }
  const v = form.get();
  return v === undefined ? {} : v;
}

async function send(args) {
  clearErrors();
  localStorage.setItem(storeKey(selected.name), pretty(args));
  const params = { name: selected.name, arguments: args };
  if (!$("task-option").hidden && $("run-as-task").checked) {
    const ttl = Number($("task-ttl").value);
    params.task = Number.isFinite(ttl) && ttl > 0 ? { ttl: Math.round(ttl * 1000) } : {};
  }
  await workbench.run("tools/call", params, { outputSchema: selected.outputSchema, app: viewUri(selected) ? { tool: selected } : undefined });
}

async function callTool() {
  const args = currentArgs();
  if (args === undefined || !selected) return;
  ctx.notice("");
  if (selected.inputSchema) {
    try {
      const { body: v } = await call("POST", "/api/validate", { schema: selected.inputSchema, instance: args });
      if (v.valid === false) {
        showErrors(v.errors);
        $("call-anyway").hidden = false;
        return;
      }
    } catch { /* validation is advice; send anyway */ }
  }
  await send(args);
}

export function init(context) {
  ctx = context;
  items.countInto("tool-list", "tools-count", () => pager.more);
  workbench.opener("tool", selectByName);
  $("tools-more").addEventListener("click", () => page(pager.walk).catch((e) => ctx.notice(e.message)));
  $("tools-all").addEventListener("click", async () => { const walk = pager.walk; while (pager.more && pager.current(walk)) await page(walk); });
  $("list-tools").addEventListener("click", () => { $("tools-updated").hidden = true; list({ refresh: true }).catch((e) => ctx.notice(e.message)); });
  $("tool-form-box").addEventListener("submit", (ev) => { ev.preventDefault(); callTool(); });
  $("call-anyway").addEventListener("click", () => { const a = currentArgs(); if (a !== undefined) send(a); });
  $("raw-mode").addEventListener("change", () => {
    const raw = $("raw-mode").checked;
    if (!raw) {
      try { form?.set(JSON.parse($("tool-args").value || "{}")); } catch (e) { ctx.notice(`Arguments are not valid JSON: ${e.message}`); $("raw-mode").checked = true; return; }
    }
    $("raw-args").hidden = !raw;
    $("tool-form").hidden = raw;
  });
  $("tool-args").addEventListener("input", () => {
    try { form?.set(JSON.parse($("tool-args").value)); localStorage.setItem(storeKey(selected.name), $("tool-args").value); } catch { /* keep typing */ }
  });
}

const relist = items.coalesced(() => list());

export function onListChanged(event) {
  since = Math.max(since, event.seq || 0);
  $("tools-updated").hidden = false;
  relist().catch(() => {});
}

export function reset() {
  pager.restart();
  since = 0;
  tools = []; selected = null;
  items.fill("tool-list", []);
  items.listError("tools", "tools/list", null);
}
