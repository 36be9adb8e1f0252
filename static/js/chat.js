// The Chat view: a model that may call the tools of the connected servers (POST /api/chat). The
// conversation lives in this page: each turn sends it whole, and the model's answer comes back
// with every tool call it made, shown inline with its arguments and result (each also a frame
// on its server's timeline). A turn can be run again, with another model to compare.

import { call, sessionId, sessionPath } from "./api.js";
import { $, el, pretty } from "./dom.js";
import * as result from "./result.js";
import * as prompts from "./prompts.js";
import * as resources from "./resources.js";
import * as tools from "./tools.js";
import * as apps from "./apps.js";

let history = []; // [{role, content}] as the API takes them: what was said, not the tool calls
let last = null; // the last turn's request, to run it again
let live = null; // the entry showing the text streamed while a turn of this page runs
let attached = []; // resource blocks for the next message

// The shown server's prompts and resources, as the lists have them, in the two pickers.
function pickers() {
  const fill = (id, names) => {
    const s = $(id);
    // Unchanged options stay: a picker rebuilt while it is being used loses the choice.
    const now = [...s.options].slice(1).map((o) => o.value);
    if (now.length === names.length && now.every((n, i) => n === names[i])) return;
    const keep = s.value;
    s.replaceChildren(el("option", { value: "", text: "(choose)" }), ...names.map((n) => el("option", { value: n, text: n })));
    s.value = names.includes(keep) ? keep : "";
  };
  fill("chat-prompt", prompts.all().map((p) => p.name));
  fill("chat-resource", (resources.all().resources || []).map((r) => r.uri));
}

async function ask(method, params) {
  const { body } = await call("POST", sessionPath("/request"), { method, params });
  if (body?.error) throw new Error(`${method}: ${body.error.message ?? JSON.stringify(body.error)}`);
  return body.result;
}

// A prompt of the server, got with its arguments, joins the conversation as its messages.
async function insertPrompt() {
  const name = $("chat-prompt").value;
  if (!name) return;
  let args;
  try { args = JSON.parse($("chat-prompt-args").value || "{}"); } catch (e) { $("chat-status").textContent = `The arguments are not JSON: ${e.message}`; return; }
  try {
    const got = await ask("prompts/get", { name, arguments: args });
    for (const m of got.messages || []) {
      history.push({ role: m.role === "assistant" ? "assistant" : "user", content: [m.content] });
      entry(`chat-${m.role === "assistant" ? "model" : "user"}`,
        el("p", { class: "chat-who" }, el("strong", { text: m.role === "assistant" ? "Prompt (assistant)" : "Prompt" }), " ", el("code", { class: "wire-name", text: name })),
        el("p", { class: "chat-text", text: m.content?.type === "text" ? m.content.text : `[${m.content?.type ?? "?"} content]` }));
    }
    $("chat-status").textContent = "";
  } catch (e) { $("chat-status").textContent = e.message; }
}

// A resource of the server, read, goes with the next message as embedded content.
async function attachResource() {
  const uri = $("chat-resource").value;
  if (!uri) return;
  try {
    const got = await ask("resources/read", { uri });
    for (const c of got.contents || []) attached.push({ type: "resource", resource: c });
    $("chat-attached").textContent = `Goes with your next message: ${attached.map((a) => a.resource.uri).join(", ")}`;
    $("chat-status").textContent = "";
  } catch (e) { $("chat-status").textContent = e.message; }
}

function entry(cls, ...children) {
  const li = el("li", { class: `chat-entry ${cls}` }, ...children);
  $("chat-log").append(li);
  li.scrollIntoView({ block: "nearest" });
  return li;
}

function textOf(message) {
  const blocks = Array.isArray(message?.content) ? message.content : [message?.content];
  return blocks.filter((b) => b?.type === "text").map((b) => b.text).join("\n");
}

async function turn(messages, model) {
  const body = { messages };
  if (model) body.model = model;
  if ($("chat-this-server").checked && sessionId()) body.sessions = [sessionId()];
  last = { messages, model };
  // While a turn runs, the conversation it will extend does not change under it.
  for (const id of ["chat-send", "chat-rerun", "chat-insert", "chat-attach", "chat-clear"]) $(id).disabled = true;
  $("chat-status").textContent = "The model is working…";
  live = entry("chat-model chat-live", el("p", { class: "chat-text", text: "" }));
  try {
    const { body: reply } = await call("POST", "/api/chat", body);
    live.remove();
    live = null;
    for (const t of reply.toolCalls || []) {
      const out = el("div", { class: "result" });
      entry("chat-tool",
        el("p", {}, el("span", { class: "badge", text: "tool" }), " ", el("code", { class: "wire-name", text: t.name }),
          el("span", { class: "muted", text: ` on ${t.session || "no server"} with ${pretty(t.arguments)}` })),
        out);
      result.render(out, t.result?.error ? { error: t.result.error } : { result: t.result });
      // A tool of the shown server with an MCP App view: its app, under the call (one app at a
      // time, as anywhere in the page).
      const tool = t.session === sessionId() ? tools.all().find((x) => x.name === t.name) : null;
      if (tool && apps.viewUri(tool)) {
        const box = el("div", { class: "app-box" });
        out.after(box);
        apps.show(box, { app: { tool }, params: { arguments: t.arguments }, session: t.session, body: t.result?.error ? { error: t.result.error } : { result: t.result }, pending: false, requestId: null });
      }
    }
    const said = textOf(reply.message);
    entry("chat-model",
      el("p", { class: "chat-who" }, el("strong", { text: reply.model }),
        el("span", { class: "muted", text: ` · ${reply.steps} step(s) · ${reply.usage?.inputTokens ?? 0} tokens in, ${reply.usage?.outputTokens ?? 0} out` })),
      el("p", { class: "chat-text", text: said || "(no text)" }),
      reply.stopped ? el("p", { class: "status-error", text: reply.stopped }) : "");
    history = said.trim() ? [...messages, { role: "assistant", content: said }] : [...messages];
    $("chat-status").textContent = "";
  } catch (e) {
    live?.remove();
    live = null;
    entry("chat-error", el("p", { class: "status-error", text: e.message }));
    $("chat-status").textContent = "";
  } finally {
    for (const id of ["chat-send", "chat-insert", "chat-attach", "chat-clear"]) $(id).disabled = false;
    $("chat-rerun").disabled = !last;
  }
}

async function about() {
  try {
    const { body } = await call("GET", "/api/models");
    const configured = body.providers?.length ? body.providers.join(" and ") : "none";
    $("chat-about").textContent = `Providers configured: ${configured}. Default model: ${body.default ?? "none (start with --model, or write one below)"}. The model may call the tools of every connected server; each call is a frame in its timeline.`;
    if (!$("chat-model").value && body.default) $("chat-model").placeholder = body.default;
  } catch { /* the note stays empty */ }
}

// Streamed text of the turn this page is waiting for (the page waits for one turn at a time).
export function onEvent(event) {
  if (!live || event.kind !== "chat") return;
  const p = live.querySelector(".chat-text");
  if (event.part === "delta") p.textContent += event.text ?? "";
  else if (event.part === "model") p.textContent = "";
}

export function init() {
  $("chat-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = $("chat-input").value.trim();
    if (!text) return;
    const extra = attached;
    attached = [];
    $("chat-attached").textContent = "";
    entry("chat-user", el("p", { class: "chat-who" }, el("strong", { text: "You" }),
      extra.length ? el("span", { class: "muted", text: ` · with ${extra.map((a) => a.resource.uri).join(", ")}` }) : ""),
    el("p", { class: "chat-text", text }));
    $("chat-input").value = "";
    const content = extra.length ? [{ type: "text", text }, ...extra] : text;
    turn([...history, { role: "user", content }], $("chat-model").value.trim());
  });
  $("chat-rerun").addEventListener("click", () => {
    if (!last) return;
    entry("chat-user", el("p", { class: "muted", text: `Run again${$("chat-model").value.trim() ? ` with ${$("chat-model").value.trim()}` : ""}` }));
    turn(last.messages, $("chat-model").value.trim() || last.model);
  });
  $("chat-insert").addEventListener("click", insertPrompt);
  $("chat-attach").addEventListener("click", attachResource);
  for (const id of ["chat-prompt", "chat-resource"]) $(id).addEventListener("focus", pickers);
  $("open-chat").addEventListener("click", pickers);
  $("chat-clear").addEventListener("click", () => {
    attached = [];
    $("chat-attached").textContent = "";
    history = [];
    last = null;
    $("chat-log").replaceChildren();
    $("chat-rerun").disabled = true;
  });
  about();
}
