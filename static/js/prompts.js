// Prompts: the list (title with the wire name), an argument form (drawn by form.js; required
// marked, values remembered per prompt) with a completion dropdown on every argument, and
// `prompts/get` shown as a conversation with the raw JSON one click away.

import { listAll, showsPast } from "./api.js";
import { $ } from "./dom.js";
import * as completion from "./completion.js";
import { fieldsForm } from "./form.js";
import { model } from "./schema.js";
import * as items from "./items.js";
import * as workbench from "./workbench.js";

let prompts = [];
let selected = null;
let inputs = {};
let generation = 0;
let ctx = null;

// The seq of the newest prompts/list_changed seen (a kept list older than it is listed again).
let since = 0;

export async function list(opts = {}) {
  const gen = ++generation;
  const got = await listAll("prompts/list", "prompts", { since, refresh: Boolean(opts.refresh) });
  if (gen !== generation) return;
  prompts = got;
  items.listError("prompts", "prompts/list", got.error);
  items.cacheHint("prompts", got.first);
  items.fill("prompt-list", prompts.map((p) => items.button({
    kind: "prompt", key: p.name, title: p.title, name: p.name, desc: p.description, cls: "prompt",
    onSelect: () => select(p),
  })));
}

export function all() { return prompts; }

function store(p) { return `mcpscope-prompt:${p.name}`; }

export function select(p) {
  selected = p;
  workbench.show("prompt", p.name);
  $("prompt-name").textContent = p.title || p.name;
  $("prompt-wire-name").textContent = p.name;
  $("prompt-description").textContent = p.description || "";
  let saved = {};
  try { saved = JSON.parse(localStorage.getItem(store(p)) || "{}"); } catch { /* none */ }
  // A prompt's arguments are strings with no schema of their own: drawn by the one form
  // renderer as the object of strings they are, each with its completion dropdown.
  const args = Array.isArray(p.arguments) ? p.arguments : [];
  const schema = {
    type: "object",
    properties: Object.fromEntries(args.map((a) => [a.name, { type: "string", title: a.title, description: a.description }])),
    required: args.filter((a) => a.required).map((a) => a.name),
  };
  const form = fieldsForm(model(schema), () => localStorage.setItem(store(p), JSON.stringify(completion.filled(inputs))));
  $("prompt-args").replaceChildren(form.node);
  inputs = {};
  for (const field of form.fields) {
    const input = field.w.input;
    input.dataset.arg = field.name;
    input.value = typeof saved[field.name] === "string" ? saved[field.name] : "";
    inputs[field.name] = input;
    completion.attach(input, {
      ref: { type: "ref/prompt", name: p.name },
      name: field.name,
      context: () => completion.filled(inputs, field.name),
      supported: () => Boolean(ctx.session()?.capabilities?.completions),
    });
  }
  if (showsPast(ctx.session())) {
    workbench.showRecorded("prompts/get", { name: p.name }).then((newest) => {
      if (!newest || selected !== p) return;
      for (const [name, input] of Object.entries(inputs)) {
        const v = newest.params.arguments?.[name];
        input.value = typeof v === "string" ? v : "";
      }
    }).catch((e) => ctx.notice(e.message));
  }
}

async function get() {
  if (!selected) return;
  const args = completion.filled(inputs);
  const missing = (selected.arguments || []).filter((a) => a.required && !(a.name in args)).map((a) => a.name);
  ctx.notice(missing.length ? `Missing required arguments: ${missing.join(", ")} (sent anyway)` : "");
  await workbench.run("prompts/get", { name: selected.name, arguments: args });
}

const relist = items.coalesced(() => list());

export function onEvent(event) {
  if (event.kind === "frame" && event.direction === "received" && event.method === "notifications/prompts/list_changed") {
    $("prompts-updated").hidden = false;
    since = Math.max(since, event.seq || 0);
    relist().catch(() => {});
  }
}

export function init(context) {
  ctx = context;
  items.countInto("prompt-list", "prompts-count");
  workbench.opener("prompt", (name) => { const p = prompts.find((x) => x.name === name); if (p) select(p); return Boolean(p); });
  $("prompt-form").addEventListener("submit", (ev) => { ev.preventDefault(); get(); });
  $("list-prompts").addEventListener("click", () => { $("prompts-updated").hidden = true; list({ refresh: true }).catch((e) => ctx.notice(e.message)); });
}

export function reset() {
  generation++;
  since = 0;
  prompts = []; selected = null;
  items.fill("prompt-list", []);
  items.listError("prompts", "prompts/list", null);
}
