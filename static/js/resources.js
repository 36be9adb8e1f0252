// Resources and templates: lists (pages appended within one load; a newer load wins), a
// MIME-aware read preview, RFC 6570 template forms with a completion dropdown per variable and
// the values remembered per template, and subscriptions where the server declares them. Which
// URIs are subscribed is the session's (the backend derives it from the wire), so a reload
// shows the truth; `notifications/resources/updated` marks the resource and re-reads it if open.

import { call, listAll, Pager, request, sessionPath, showsPast } from "./api.js";
import { $, el } from "./dom.js";
import { expand, variables } from "./uritemplate.js";
import * as completion from "./completion.js";
import * as items from "./items.js";
import * as workbench from "./workbench.js";

let resources = [];
const pager = new Pager("resources/list", "resources");
let templates = [];
let open = null; // the resource shown in the detail panel
let openTemplate = null;
const updated = new Set();
// The seq of the newest resources/list_changed seen, and whether the next load must list again.
let since = 0;
let refresh = false;
let ctx = null;

function name(r) { return r.title || r.name || r.uri; }

function subscribed(uri) {
  const subs = ctx.session()?.subscriptions;
  return Array.isArray(subs) && subs.includes(uri);
}

function renderResources() {
  items.fill("resource-list", resources.map((r) => items.button({
    kind: "resource", key: r.uri, title: r.title || r.name, name: r.name ?? r.uri,
    desc: r.uri, cls: `resource${updated.has(r.uri) ? " updated" : ""}`,
    extra: updated.has(r.uri) ? el("span", { class: "updated-mark", text: "updated" }) : null,
    onSelect: () => select(r),
  })));
  $("resources-more").hidden = !pager.more;
}

function renderTemplates() {
  items.fill("template-list", templates.map((t) => items.button({
    kind: "template", key: t.uriTemplate, title: t.title || t.name, name: t.name ?? t.uriTemplate,
    desc: t.uriTemplate, cls: "template", onSelect: () => selectTemplate(t),
  })));
}

async function page(walk) {
  const got = await pager.next(walk, { since, refresh });
  if (!got) return;
  items.listError("resources", "resources/list", got.error);
  if (got.first && !got.error) items.cacheHint("resources", got.result);
  resources.push(...got.items);
  renderResources();
}

export async function list(opts = {}) {
  refresh = Boolean(opts.refresh);
  const walk = pager.restart();
  resources = [];
  await page(walk);
  const t = await listAll("resources/templates/list", "resourceTemplates", { since, refresh });
  if (!pager.current(walk)) return;
  templates = t;
  items.listError("templates", "resources/templates/list", t.error);
  items.cacheHint("templates", t.first);
  renderTemplates();
}

export function all() { return { resources, templates }; }

// Opening a resource reads it, unless it is reopened after a reload or a switch.
export function select(r, { readNow = true } = {}) {
  open = r;
  workbench.show("resource", r.uri);
  $("resource-name").textContent = name(r);
  $("resource-wire-name").textContent = r.name ?? "";
  $("resource-uri").textContent = r.uri;
  $("resource-description").textContent = r.description || "";
  showSubscription();
  $("resource-updated").hidden = !updated.has(r.uri);
  // An opened recording reads nothing: it shows what was read when it was recorded.
  if (showsPast(ctx.session())) workbench.showRecorded("resources/read", { uri: r.uri }).catch((e) => ctx.notice(e.message));
  else if (readNow) read(r.uri);
}

function showSubscription() {
  const canSubscribe = Boolean(ctx.session()?.capabilities?.resources?.subscribe);
  $("subscribe-resource").hidden = !canSubscribe || !open;
  if (open) $("subscribe-resource").textContent = subscribed(open.uri) ? "Unsubscribe" : "Subscribe";
}

export function read(uri) {
  return workbench.run("resources/read", { uri });
}

async function toggleSubscribe() {
  if (!open) return;
  const uri = open.uri;
  const on = !subscribed(uri);
  // One route for both eras: resources/(un)subscribe in legacy, a new listen filter in modern.
  const { body } = await call(on ? "POST" : "DELETE", sessionPath("/subscriptions"), { uri });
  // On success the session's state event brings the new subscription list (and the button).
  if (body.error) ctx.notice(`${on ? "subscribe" : "unsubscribe"}: ${body.error.message}`);
}

function templateStore(t) { return `mcpscope-template:${t.uriTemplate}`; }

export function selectTemplate(t) {
  openTemplate = t;
  workbench.show("template", t.uriTemplate);
  $("template-name").textContent = t.title || t.name || t.uriTemplate;
  $("template-wire-name").textContent = t.name ?? "";
  $("template-pattern").textContent = t.uriTemplate;
  $("template-description").textContent = t.description || "";
  const names = variables(t.uriTemplate);
  let saved = {};
  try { saved = JSON.parse(localStorage.getItem(templateStore(t)) || "{}"); } catch { /* none */ }
  const inputs = {};
  const update = () => {
    const values = completion.filled(inputs);
    $("template-uri").textContent = expand(t.uriTemplate, values);
    localStorage.setItem(templateStore(t), JSON.stringify(values));
  };
  const box = $("template-vars");
  box.replaceChildren();
  for (const n of names) {
    const id = `tv-${n}`;
    const input = el("input", { id, type: "text", "data-var": n, spellcheck: "false", value: typeof saved[n] === "string" ? saved[n] : "" });
    inputs[n] = input;
    input.addEventListener("input", update);
    box.append(el("div", { class: "field" }, el("label", { for: id, text: n }), input));
    completion.attach(input, {
      ref: { type: "ref/resource", uri: t.uriTemplate },
      name: n,
      context: () => completion.filled(inputs, n),
      supported: () => Boolean(ctx.session()?.capabilities?.completions),
    });
  }
  update();
}

const relist = items.coalesced(() => list());

export function onEvent(event) {
  if (event.kind !== "frame" || event.direction !== "received") return;
  if (event.method === "notifications/resources/list_changed") {
    $("resources-updated").hidden = false;
    since = Math.max(since, event.seq || 0);
    relist().catch(() => {});
  } else if (event.method === "notifications/resources/updated") {
    const uri = event.message?.params?.uri;
    if (typeof uri !== "string") return;
    updated.add(uri);
    renderResources();
    if (open?.uri === uri && !$("resource-detail").hidden) {
      $("resource-updated").hidden = false;
      read(uri);
    }
  }
}

// The session changed (a state event): its subscriptions may have.
export function onSession() {
  showSubscription();
}

export function init(context) {
  ctx = context;
  items.countInto("resource-list", "resources-count", () => pager.more);
  items.countInto("template-list", "templates-count");
  workbench.opener("resource", (uri) => { const r = resources.find((x) => x.uri === uri); if (r) select(r, { readNow: false }); return Boolean(r); });
  workbench.opener("template", (u) => { const t = templates.find((x) => x.uriTemplate === u); if (t) selectTemplate(t); return Boolean(t); });
  $("resources-more").addEventListener("click", () => page(pager.walk).catch(() => {}));
  $("list-resources").addEventListener("click", () => { $("resources-updated").hidden = true; list({ refresh: true }).catch((e) => ctx.notice(e.message)); });
  $("resource-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (open) { updated.delete(open.uri); $("resource-updated").hidden = true; renderResources(); read(open.uri); }
  });
  $("subscribe-resource").addEventListener("click", () => toggleSubscribe().catch((e) => ctx.notice(e.message)));
  $("template-form").addEventListener("submit", (ev) => { ev.preventDefault(); if (openTemplate) read($("template-uri").textContent); });
}

export function reset() {
  pager.restart();
  since = 0;
  resources = []; templates = []; open = null; openTemplate = null; updated.clear();
  items.fill("resource-list", []);
  items.fill("template-list", []);
  items.listError("resources", "resources/list", null);
  items.listError("templates", "resources/templates/list", null);
}
