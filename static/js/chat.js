// The Chat view: a model that may call the tools of the connected servers (POST /api/chat). The
// conversation lives in this page: each turn sends it whole, and the model's answer comes back
// with every tool call it made, shown inline with its arguments and result (each also a frame
// on its server's timeline). A turn can be run again, with another model to compare.

import { call, sessionId } from "./api.js";
import { $, el, pretty } from "./dom.js";
import * as result from "./result.js";

let history = []; // [{role, content}] as the API takes them: what was said, not the tool calls
let last = null; // the last turn's request, to run it again
let live = null; // the entry showing the text streamed while a turn of this page runs

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
  $("chat-send").disabled = true;
  $("chat-rerun").disabled = true;
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
    }
    const said = textOf(reply.message);
    entry("chat-model",
      el("p", { class: "chat-who" }, el("strong", { text: reply.model }),
        el("span", { class: "muted", text: ` · ${reply.steps} step(s) · ${reply.usage?.inputTokens ?? 0} tokens in, ${reply.usage?.outputTokens ?? 0} out` })),
      el("p", { class: "chat-text", text: said || "(no text)" }),
      reply.stopped ? el("p", { class: "status-error", text: reply.stopped }) : "");
    history = [...messages, { role: "assistant", content: said }];
    $("chat-status").textContent = "";
  } catch (e) {
    live?.remove();
    live = null;
    entry("chat-error", el("p", { class: "status-error", text: e.message }));
    $("chat-status").textContent = "";
  } finally {
    $("chat-send").disabled = false;
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
    entry("chat-user", el("p", { class: "chat-who" }, el("strong", { text: "You" })), el("p", { class: "chat-text", text }));
    $("chat-input").value = "";
    turn([...history, { role: "user", content: text }], $("chat-model").value.trim());
  });
  $("chat-rerun").addEventListener("click", () => {
    if (!last) return;
    entry("chat-user", el("p", { class: "muted", text: `Run again${$("chat-model").value.trim() ? ` with ${$("chat-model").value.trim()}` : ""}` }));
    turn(last.messages, $("chat-model").value.trim() || last.model);
  });
  $("chat-clear").addEventListener("click", () => {
    history = [];
    last = null;
    $("chat-log").replaceChildren();
    $("chat-rerun").disabled = true;
  });
  about();
}
