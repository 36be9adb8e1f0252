// Prompts: the list, an argument form (required marked) with a completion dropdown on every
// argument, and `prompts/get` shown as a conversation with the raw JSON one click away.

import { listAll } from "./api.js";
import { $, el } from "./dom.js";
import * as completion from "./completion.js";

let prompts = [];
let selected = null;
let inputs = {};
let ctx = null;

export async function list() {
  prompts = await listAll("prompts/list", "prompts");
  $("prompt-list").replaceChildren(...prompts.map((p) => el("li", {},
    el("button", { type: "button", class: "tool prompt", "data-prompt": p.name, onclick: () => select(p) },
      el("span", { class: "tool-title", text: p.title || p.name }),
      p.description ? el("span", { class: "tool-desc", text: p.description }) : null))));
  $("prompts-count").textContent = `(${prompts.length})`;
}

function select(p) {
  selected = p;
  ctx.show("prompt-detail");
  $("prompt-name").textContent = p.title || p.name;
  $("prompt-description").textContent = p.description || "";
  const box = $("prompt-args");
  box.replaceChildren();
  inputs = {};
  for (const a of Array.isArray(p.arguments) ? p.arguments : []) {
    const id = `pa-${a.name}`;
    const input = el("input", { id, type: "text", "data-arg": a.name, spellcheck: "false" });
    inputs[a.name] = input;
    box.append(el("div", { class: "field" },
      el("label", { for: id },
        el("span", { class: "field-name", text: a.title ? `${a.title} (${a.name})` : a.name }),
        a.required ? el("span", { class: "required", text: " *", title: "required" }) : null),
      a.description ? el("div", { class: "field-desc muted", text: a.description }) : null,
      input));
    completion.attach(input, {
      ref: { type: "ref/prompt", name: p.name },
      name: a.name,
      context: () => completion.filled(inputs, a.name),
      supported: () => Boolean(ctx.session()?.capabilities?.completions),
    });
  }
}

async function get() {
  if (!selected) return;
  const args = completion.filled(inputs);
  const missing = (selected.arguments || []).filter((a) => a.required && !(a.name in args)).map((a) => a.name);
  if (missing.length) ctx.notice(`Missing required arguments: ${missing.join(", ")} (sent anyway)`);
  await ctx.run("prompts/get", { name: selected.name, arguments: args });
}

export function onEvent(event) {
  if (event.kind === "frame" && event.direction === "received" && event.method === "notifications/prompts/list_changed") {
    $("prompts-updated").hidden = false;
    list().catch(() => {});
  }
}

export function init(context) {
  ctx = context;
  $("get-prompt").addEventListener("click", () => get());
  $("list-prompts").addEventListener("click", () => { $("prompts-updated").hidden = true; list().catch((e) => ctx.notice(e.message)); });
}

export function reset() {
  prompts = []; selected = null;
  $("prompt-list").replaceChildren();
  $("prompts-count").textContent = "";
}
