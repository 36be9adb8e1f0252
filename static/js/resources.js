// Resources and templates: lists (pages appended), a MIME-aware read preview, RFC 6570 template
// forms with a completion dropdown per variable, and subscriptions where the server declares
// them (`notifications/resources/updated` marks the resource and re-reads it if it is open).

import { listAll, request } from "./api.js";
import { $, el } from "./dom.js";
import { expand, variables } from "./uritemplate.js";
import * as completion from "./completion.js";

let resources = [];
let cursor = null;
let templates = [];
let open = null; // the resource shown in the detail panel
let openTemplate = null;
const subscribed = new Set();
const updated = new Set();
let ctx = null;

function name(r) { return r.title || r.name || r.uri; }

function renderResources() {
  $("resource-list").replaceChildren(...resources.map((r) => el("li", {},
    el("button", { type: "button", class: `tool resource${updated.has(r.uri) ? " updated" : ""}`, "data-uri": r.uri, onclick: () => select(r) },
      el("span", { class: "tool-title", text: name(r) }),
      el("span", { class: "tool-desc", text: r.uri }),
      updated.has(r.uri) ? el("span", { class: "updated-mark", text: "updated" }) : null))));
  $("resources-count").textContent = `(${resources.length}${cursor ? "+" : ""})`;
  $("resources-more").hidden = !cursor;
}

async function page() {
  const { body } = await request("resources/list", cursor ? { cursor } : {});
  if (body.error) { cursor = null; return; }
  resources.push(...(Array.isArray(body.result?.resources) ? body.result.resources : []));
  cursor = body.result?.nextCursor ?? null;
  renderResources();
}

export async function list() {
  resources = []; cursor = null;
  await page();
  templates = await listAll("resources/templates/list", "resourceTemplates");
  $("template-list").replaceChildren(...templates.map((t) => el("li", {},
    el("button", { type: "button", class: "tool template", "data-template": t.uriTemplate, onclick: () => selectTemplate(t) },
      el("span", { class: "tool-title", text: t.title || t.name || t.uriTemplate }),
      el("span", { class: "tool-desc", text: t.uriTemplate })))));
}

function select(r) {
  open = r;
  ctx.show("resource-detail");
  $("resource-name").textContent = name(r);
  $("resource-uri").textContent = r.uri;
  $("resource-description").textContent = r.description || "";
  const canSubscribe = Boolean(ctx.session()?.capabilities?.resources?.subscribe);
  $("subscribe-resource").hidden = !canSubscribe;
  $("subscribe-resource").textContent = subscribed.has(r.uri) ? "Unsubscribe" : "Subscribe";
  $("resource-updated").hidden = !updated.has(r.uri);
  read(r.uri);
}

export function read(uri) {
  return ctx.run("resources/read", { uri });
}

async function toggleSubscribe() {
  if (!open) return;
  const uri = open.uri;
  const on = !subscribed.has(uri);
  const { body } = await request(on ? "resources/subscribe" : "resources/unsubscribe", { uri });
  if (body.error) { ctx.notice(`${on ? "subscribe" : "unsubscribe"}: ${body.error.message}`); return; }
  if (on) subscribed.add(uri); else subscribed.delete(uri);
  $("subscribe-resource").textContent = on ? "Unsubscribe" : "Subscribe";
}

function selectTemplate(t) {
  openTemplate = t;
  ctx.show("template-detail");
  $("template-name").textContent = t.title || t.name || t.uriTemplate;
  $("template-pattern").textContent = t.uriTemplate;
  $("template-description").textContent = t.description || "";
  const names = variables(t.uriTemplate);
  const inputs = {};
  const update = () => { $("template-uri").textContent = expand(t.uriTemplate, completion.filled(inputs)); };
  const box = $("template-vars");
  box.replaceChildren();
  for (const n of names) {
    const id = `tv-${n}`;
    const input = el("input", { id, type: "text", "data-var": n, spellcheck: "false" });
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

export function onEvent(event) {
  if (event.kind !== "frame" || event.direction !== "received") return;
  if (event.method === "notifications/resources/list_changed") {
    $("resources-updated").hidden = false;
    list().catch(() => {});
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

export function init(context) {
  ctx = context;
  $("resources-more").addEventListener("click", () => page().catch(() => {}));
  $("list-resources").addEventListener("click", () => { $("resources-updated").hidden = true; list().catch((e) => ctx.notice(e.message)); });
  $("read-resource").addEventListener("click", () => { if (open) { updated.delete(open.uri); $("resource-updated").hidden = true; renderResources(); read(open.uri); } });
  $("subscribe-resource").addEventListener("click", () => toggleSubscribe().catch((e) => ctx.notice(e.message)));
  $("read-template").addEventListener("click", () => { if (openTemplate) read($("template-uri").textContent); });
}

export function reset() {
  resources = []; templates = []; cursor = null; open = null; subscribed.clear(); updated.clear();
  $("resource-list").replaceChildren(); $("template-list").replaceChildren();
  $("resources-count").textContent = "";
}
