// The server's requests waiting for a person: a badge in the top bar and a drawer that appears
// wherever the user is. Sampling gets a readable view of the request and a composer; elicitation
// a form (or, in URL mode, the URL with its host made plain); anything else a raw JSON answer.
// The queue lives in the backend (each session's /pending), so a reload loses nothing. Every
// session's requests show here, each card naming its server, and one from a server the page is
// not looking at is announced rather than left to be found.

import { call, sessionId } from "./api.js";
import * as servers from "./servers.js";
import { $, el, pretty } from "./dom.js";
import { conversation, jsonBlock, lastUserText } from "./content.js";
import * as elicit from "./elicit.js";

const cards = new Map(); // `${id}@${receivedAt}` → card element
// URL elicitations answered here, waiting for notifications/elicitation/complete.
const urlElicitations = new Map(); // elicitationId → {url, status}

// Every session's queue, each request marked with its session; `sessions` is the server list,
// which says which sessions have requests waiting.
async function allPending(sessions) {
  const lists = await Promise.all(sessions
    .filter((s) => s.pending > 0)
    .map(async (s) => {
      const { body } = await call("GET", `/api/sessions/${encodeURIComponent(s.id)}/pending`);
      return (Array.isArray(body) ? body : []).map((p) => ({ ...p, session: s.id, sessionName: s.name, uid: `${s.id}-${p.id}` }));
    }));
  return lists.flat();
}

// The drawer follows the server list: each load of it (see servers.js, which decides when
// something changed) refreshes the queue.
async function refresh(sessions) {
  const list = await allPending(sessions);
  // Ids restart with each connection, so a card is keyed by session, id and arrival time.
  const key = (p) => `${p.uid}@${p.receivedAt}`;
  const ids = new Set(list.map(key));
  for (const [id, card] of cards) {
    if (!ids.has(id)) { card.remove(); cards.delete(id); }
  }
  for (const p of list) {
    if (!cards.has(key(p))) {
      const card = render(p);
      cards.set(key(p), card);
      $("pending-list").append(card);
    }
  }
  const n = list.length;
  const badge = $("pending-badge");
  badge.hidden = n === 0;
  // The words after the count give way in a narrow header (the server's name needs the room).
  badge.replaceChildren(`${n} `, el("span", { class: "wide-only", text: `server request${n === 1 ? "" : "s"} ` }), "waiting");
  badge.setAttribute("aria-label", `${n} server request${n === 1 ? "" : "s"} waiting`);
  $("pending-panel").hidden = n === 0 && urlElicitations.size === 0;
  $("pending-empty").hidden = n !== 0;
}

// Announcements, and the URL elicitations' status; the queue itself follows the server list.
export function onEvent(event, live) {
  if (event.kind === "pending" && live && event.session && event.session !== sessionId()) announce(event);
  if (event.kind === "frame") {
    if (event.direction === "received" && event.method === "notifications/elicitation/complete") {
      const id = event.message?.params?.elicitationId;
      const known = urlElicitations.get(id);
      if (known) { known.status = "completed"; renderUrlElicitations(); }
    }
  }
}

async function answer(p, body, card) {
  const status = card.querySelector(".answer-status");
  try {
    await call("POST", `/api/sessions/${encodeURIComponent(p.session)}/pending/${encodeURIComponent(p.id)}`, body);
    status.textContent = "sent";
    servers.schedule();
  } catch (e) {
    status.textContent = e.message;
  }
}

function header(p) {
  return el("div", { class: "pending-head" },
    el("strong", { text: p.method }),
    el("span", { class: "session-tag", text: p.sessionName || p.session, title: `session ${p.session}` }),
    el("span", { class: "muted", text: ` #${p.id} · ${origin(p)} · ${String(p.receivedAt || "").replace(/^.*T|Z$/g, "").slice(0, 12)}` }));
}

// A legacy server request names the server's id; a modern input request (MRTR) the call that
// asked for it and which round it is.
function origin(p) {
  if (p.hostedTask) return `run as task ${p.taskId} (the server polls it; your answer ends it)`;
  if (p.round === undefined && p.inputKey !== undefined) return `input ${JSON.stringify(p.inputKey)} for task ${p.taskId}`;
  if (p.round === undefined) return `server id ${JSON.stringify(p.serverId)}`;
  return `input ${JSON.stringify(p.inputKey)} for request #${p.originRequestId}, round ${p.round}`;
}

function rawDetails(p) {
  return el("details", { class: "raw" }, el("summary", { text: "Request as JSON" }), jsonBlock(p.params));
}

function render(p) {
  const card = el("li", { class: "pending-card", "data-pending-id": p.id, "data-session": p.session, "data-method": p.method });
  card.append(header(p));
  if (p.method === "sampling/createMessage") sampling(p, card);
  else if (p.method === "elicitation/create") elicitation(p, card);
  else generic(p, card);
  card.append(el("div", { class: "answer-status muted", role: "status" }));
  return card;
}

function facts(pairs) {
  const dl = el("dl", { class: "facts" });
  for (const [k, v] of pairs) {
    if (v === undefined || v === null || v === "") continue;
    dl.append(el("dt", { text: k }), el("dd", { text: typeof v === "string" ? v : pretty(v) }));
  }
  return dl;
}

function modelPrefs(mp) {
  if (!mp || typeof mp !== "object") return undefined;
  const parts = [];
  if (Array.isArray(mp.hints)) parts.push(`hints: ${mp.hints.map((h) => h?.name ?? pretty(h)).join(", ")}`);
  for (const k of ["costPriority", "speedPriority", "intelligencePriority"]) if (mp[k] !== undefined) parts.push(`${k} ${mp[k]}`);
  return parts.join(" · ") || pretty(mp);
}

function sampling(p, card) {
  const q = p.params || {};
  const tools = Array.isArray(q.tools) ? q.tools : [];
  card.append(
    facts([
      ["System prompt", q.systemPrompt],
      ["Max tokens", q.maxTokens],
      ["Temperature", q.temperature],
      ["Stop sequences", Array.isArray(q.stopSequences) ? q.stopSequences.map((s) => JSON.stringify(s)).join(", ") : q.stopSequences],
      ["Include context", q.includeContext],
      ["Model preferences", modelPrefs(q.modelPreferences)],
      ["Tools", tools.length ? tools.map((t) => t?.name).join(", ") : undefined],
      ["Tool choice", q.toolChoice],
      ["Metadata", q.metadata],
    ]),
    conversation(q.messages),
    rawDetails(p));

  const id = `s${p.uid}`;
  const role = el("select", { id: `${id}-role` }, el("option", { text: "assistant" }), el("option", { text: "user" }));
  const model = el("input", { id: `${id}-model`, type: "text", value: "mcpscope-manual", spellcheck: "false" });
  const stop = el("select", { id: `${id}-stop` }, ...["endTurn", "stopSequence", "maxTokens", "toolUse"].map((s) => el("option", { text: s })));
  const type = el("select", { id: `${id}-type`, class: "answer-type" },
    el("option", { value: "text", text: "text" }), el("option", { value: "image", text: "image" }),
    tools.length ? el("option", { value: "tool_use", text: "tool_use" }) : null);
  const draft = lastUserText(q.messages);
  const text = el("textarea", { id: `${id}-text`, class: "answer-text", rows: 3, text: `Mock answer to: ${draft.slice(0, 80)}` });
  const mime = el("input", { id: `${id}-mime`, type: "text", value: "image/png" });
  const data = el("textarea", { id: `${id}-data`, rows: 2, placeholder: "base64 data" });
  const toolName = el("select", { id: `${id}-tool` }, ...tools.map((t) => el("option", { text: String(t?.name ?? "") })));
  const toolInput = el("textarea", { id: `${id}-input`, rows: 3, text: "{}" });
  const textBox = el("div", {}, el("label", { for: text.id, text: "Text" }), text);
  const imageBox = el("div", { hidden: true }, el("label", { for: mime.id, text: "MIME type" }), mime, el("label", { for: data.id, text: "Data (base64)" }), data);
  const toolBox = el("div", { hidden: true }, el("label", { for: toolName.id, text: "Tool" }), toolName, el("label", { for: toolInput.id, text: "Input (JSON)" }), toolInput);
  type.addEventListener("change", () => {
    textBox.hidden = type.value !== "text";
    imageBox.hidden = type.value !== "image";
    toolBox.hidden = type.value !== "tool_use";
    if (type.value === "tool_use") stop.value = "toolUse";
  });
  const status = () => card.querySelector(".answer-status");
  const build = () => {
    let content;
    if (type.value === "text") content = { type: "text", text: text.value };
    else if (type.value === "image") content = { type: "image", mimeType: mime.value.trim(), data: data.value.trim() };
    else {
      let input;
      try { input = JSON.parse(toolInput.value || "{}"); } catch (e) { status().textContent = `Tool input is not JSON: ${e.message}`; return null; }
      content = { type: "tool_use", id: `mcpscope-${Date.now().toString(36)}`, name: toolName.value, input };
    }
    return { role: role.value, content, model: model.value, stopReason: stop.value };
  };
  // A model's draft (responders' llm mode with review): the composer starts from it, and it can
  // be sent exactly as drafted (several blocks included).
  const drafted = p.draft && typeof p.draft === "object" ? p.draft : null;
  if (drafted) {
    const blocks = Array.isArray(drafted.content) ? drafted.content : [drafted.content];
    // A draft that calls a tool ([text, tool_use] is typical) opens on its first tool call.
    const first = blocks.find((b) => b?.type === "tool_use") || blocks[0] || {};
    model.value = String(drafted.model ?? model.value);
    if (["endTurn", "stopSequence", "maxTokens", "toolUse"].includes(drafted.stopReason)) stop.value = drafted.stopReason;
    if (first.type === "tool_use" && tools.length) {
      type.value = "tool_use";
      const name = String(first.name ?? "");
      if (![...toolName.options].some((o) => o.value === name)) toolName.append(el("option", { text: name }));
      toolName.value = name;
      toolInput.value = pretty(first.input ?? {});
    } else {
      text.value = blocks.filter((b) => b?.type === "text").map((b) => b.text).join("\n");
    }
    type.dispatchEvent(new Event("change"));
    if (first.type === "tool_use") stop.value = drafted.stopReason ?? "toolUse";
  }
  const by = p.draftedBy;
  const usage = by?.usage ? ` · ${by.usage.inputTokens} tokens in, ${by.usage.outputTokens} out` : "";
  if (drafted || p.draftError) {
    card.append(el("p", { class: p.draftError ? "draft-note status-error" : "draft-note" },
      p.draftError ? `${by?.model ?? "The model"} could not draft an answer: ${p.draftError}` : `Drafted by ${by?.model ?? "a model"}${usage}: review it, edit it, send it or reject it.`,
      drafted ? el("button", { type: "button", class: "small answer-draft", onclick: () => answer(p, { result: drafted }, card) }, "Send the draft as is") : ""));
  }
  const code = el("input", { id: `${id}-code`, type: "number", value: "-1", class: "code" });
  const message = el("input", { id: `${id}-message`, type: "text", value: "User rejected sampling request" });
  card.append(el("form", { class: "composer", onsubmit: (ev) => ev.preventDefault() },
    el("div", { class: "row3" },
      el("div", {}, el("label", { for: role.id, text: "Role" }), role),
      el("div", {}, el("label", { for: model.id, text: "Model" }), model),
      el("div", {}, el("label", { for: stop.id, text: "Stop reason" }), stop),
      el("div", {}, el("label", { for: type.id, text: "Content" }), type)),
    textBox, imageBox, toolBox,
    el("div", { class: "actions" },
      el("button", { type: "button", class: "primary answer-send", onclick: () => { const r = build(); if (r) answer(p, { result: r }, card); } }, "Send answer"),
      el("span", { class: "reject" },
        el("label", { for: code.id, text: "Error code", class: "inline" }), code,
        el("label", { for: message.id, text: "Message", class: "inline" }), message,
        el("button", { type: "button", class: "answer-reject", onclick: () => answer(p, { error: { code: Number(code.value), message: message.value } }, card) }, "Reject")))));
}

function elicitation(p, card) {
  const q = p.params || {};
  card.append(el("p", { class: "elicit-message", text: String(q.message ?? "") }));
  const actions = (getContent) => el("div", { class: "actions" },
    el("button", { type: "button", class: "primary answer-accept", onclick: (ev) => {
      const content = getContent(ev.currentTarget);
      if (content === null) return;
      const result = { action: "accept" };
      if (content !== undefined) result.content = content;
      answer(p, { result }, card);
    } }, "Accept"),
    el("button", { type: "button", class: "answer-decline", onclick: () => answer(p, { result: { action: "decline" } }, card) }, "Decline"),
    el("button", { type: "button", class: "answer-cancel", onclick: () => answer(p, { result: { action: "cancel" } }, card) }, "Cancel"));

  if (q.mode === "url") {
    const view = elicit.urlView(String(q.url ?? ""));
    const open = view.openable
      ? el("a", { class: "open-url button", href: view.href, target: "_blank", rel: "noopener noreferrer" }, "Open in a new tab")
      : el("span", { class: "muted", text: "(not openable)" });
    card.append(view.node, el("p", { class: "muted", text: "mcpscope never opens or fetches this URL itself." }), open);
    card.append(actions(() => {
      if (q.elicitationId !== undefined) {
        urlElicitations.set(q.elicitationId, { url: String(q.url ?? ""), status: "waiting for completion" });
        renderUrlElicitations();
      }
      return undefined;
    }));
  } else {
    const f = elicit.form(q.requestedSchema);
    card.append(f.node);
    const bar = actions((button) => {
      const { content, errors } = f.read();
      // A debugger may send invalid content on purpose: the second click sends anyway.
      if (errors.length && button.dataset.confirm !== "1") {
        button.dataset.confirm = "1";
        button.textContent = "Accept anyway";
        card.querySelector(".answer-status").textContent = `Invalid: ${errors.join("; ")}`;
        return null;
      }
      return content;
    });
    card.append(bar);
    // After an Accept that found problems, every change reads the form again (read() also
    // renews each field's warning): a corrected value's warning goes, and "Accept anyway" goes
    // once none is left.
    f.node.addEventListener("input", () => {
      const accept = bar.querySelector(".answer-accept");
      if (accept.dataset.confirm !== "1") return;
      const { errors } = f.read();
      card.querySelector(".answer-status").textContent = errors.length ? `Invalid: ${errors.join("; ")}` : "";
      if (!errors.length) {
        delete accept.dataset.confirm;
        accept.textContent = "Accept";
      }
    });
  }
  card.append(rawDetails(p));
}

function generic(p, card) {
  const text = el("textarea", { id: `g${p.uid}`, rows: 4, text: p.method === "roots/list" ? '{"roots": []}' : "{}" });
  card.append(rawDetails(p), el("label", { for: text.id, text: "Result (JSON)" }), text,
    el("button", { type: "button", class: "primary answer-send", onclick: () => {
      try { answer(p, { result: JSON.parse(text.value) }, card); } catch (e) { card.querySelector(".answer-status").textContent = e.message; }
    } }, "Send result"));
}

// A request from a server in the background: said in a live region, with a way to it.
function announce(event) {
  const box = $("announce");
  const text = `${servers.nameOf(event.session)} (${event.session}) asks: ${event.method}`;
  const item = el("li", { class: "announcement" },
    el("span", { text }),
    el("button", { type: "button", onclick: () => { $("pending-panel").hidden = false; item.remove(); box.hidden = !box.childElementCount; } }, "Show"),
    el("button", { type: "button", "aria-label": `Dismiss: ${text}`, onclick: () => { item.remove(); box.hidden = !box.childElementCount; } }, "×"));
  box.append(item);
  while (box.childElementCount > 5) box.firstElementChild.remove();
  box.hidden = false;
}

function renderUrlElicitations() {
  const list = $("url-elicitations");
  list.replaceChildren(...[...urlElicitations].map(([id, e]) =>
    el("li", { class: `url-elicitation status-${e.status === "completed" ? "done" : "waiting"}` },
      el("span", { text: `${id}: ${e.status}` }), el("span", { class: "muted", text: ` ${e.url}` }))));
  list.hidden = urlElicitations.size === 0;
  if (urlElicitations.size) $("pending-panel").hidden = false;
}

export function init() {
  $("pending-badge").addEventListener("click", () => {
    $("pending-panel").hidden = false;
    $("pending-panel").querySelector(".pending-card button, .pending-card input, .pending-card select")?.focus();
  });
  $("pending-close").addEventListener("click", () => { $("pending-panel").hidden = true; });
  servers.onLoad((sessions) => refresh(sessions).catch(() => {}));
}
