// The responders editor: sampling and elicitation mode (manual, mock, or for sampling llm: a
// model answers, optionally held for review), their ordered rules
// (regex → canned result, optional delay) and default, and the roots list. Saved for every
// server (PUT /api/responders; the backend validates and may persist them to --responders FILE)
// or for the shown server only (PUT /api/sessions/{id}/responders, in memory for the life of
// the session), which then answers with its own settings until it follows everyone's again.

import { call, sessionId, sessionPath, showsPast } from "./api.js";
import { $, el, pretty } from "./dom.js";

const SAMPLE = {
  sampling: { role: "assistant", content: { type: "text", text: "A canned answer." }, model: "mcpscope-mock", stopReason: "endTurn" },
  elicitation: { action: "accept", content: {} },
};
let seq = 0;

function ruleRow(kind, rule = {}) {
  const id = `rule-${++seq}`;
  const li = el("li", { class: "rule" });
  const move = (dir) => {
    const sib = dir < 0 ? li.previousElementSibling : li.nextElementSibling;
    if (sib) (dir < 0 ? sib.before(li) : sib.after(li));
  };
  li.append(
    el("div", { class: "row3" },
      el("div", {}, el("label", { for: `${id}-match`, text: "Match (regex)" }),
        el("input", { id: `${id}-match`, class: "rule-match", type: "text", value: rule.match ?? "", spellcheck: "false" })),
      el("div", {}, el("label", { for: `${id}-name`, text: "Name" }),
        el("input", { id: `${id}-name`, class: "rule-name", type: "text", value: rule.name ?? "" })),
      el("div", {}, el("label", { for: `${id}-delay`, text: "Delay (ms)" }),
        el("input", { id: `${id}-delay`, class: "rule-delay", type: "number", min: "0", value: rule.delayMs ?? 0 }))),
    el("label", { class: "check" },
      el("input", { type: "checkbox", class: "rule-is-error", checked: rule.error !== undefined }),
      "answer with a JSON-RPC error instead"),
    el("label", { for: `${id}-response`, text: kind === "sampling" ? "Response (CreateMessageResult, or the error)" : "Response (ElicitResult, or the error)" }),
    el("textarea", { id: `${id}-response`, class: "rule-response", rows: 4, spellcheck: "false", text: pretty(rule.error ?? rule.response ?? SAMPLE[kind]) }),
    el("div", { class: "actions" },
      el("button", { type: "button", onclick: () => move(-1), "aria-label": "Move up" }, "↑"),
      el("button", { type: "button", onclick: () => move(1), "aria-label": "Move down" }, "↓"),
      el("button", { type: "button", onclick: () => li.remove() }, "Remove")));
  return li;
}

function rootRow(root = {}) {
  const id = `root-${++seq}`;
  const li = el("li", { class: "root-row" },
    el("label", { for: `${id}-uri`, text: "URI" }),
    el("input", { id: `${id}-uri`, class: "root-uri", type: "text", value: root.uri ?? "file:///", spellcheck: "false" }),
    el("label", { for: `${id}-name`, text: "Name" }),
    el("input", { id: `${id}-name`, class: "root-name", type: "text", value: root.name ?? "" }));
  li.append(el("button", { type: "button", onclick: () => li.remove() }, "Remove"));
  return li;
}

function fill(settings) {
  for (const kind of ["sampling", "elicitation"]) {
    const set = settings[kind] || {};
    $(`${kind}-mode`).value = set.mode || "manual";
    if (kind === "sampling") {
      $("sampling-model").value = set.model ?? "";
      $("sampling-review").checked = Boolean(set.review);
      $("sampling-llm").hidden = set.mode !== "llm";
    }
    $(`${kind}-rules`).replaceChildren(...(set.rules || []).map((r) => ruleRow(kind, r)));
    $(`${kind}-default`).value = set.default ? pretty(set.default) : "";
  }
  $("roots-list").replaceChildren(...(settings.roots || []).map(rootRow));
}

function collect() {
  const out = {};
  for (const kind of ["sampling", "elicitation"]) {
    const rules = [...$(`${kind}-rules`).children].map((li, i) => {
      const text = li.querySelector(".rule-response").value;
      let response;
      try { response = JSON.parse(text); } catch (e) { throw new Error(`${kind} rule ${i + 1}: response is not JSON (${e.message})`); }
      const rule = { match: li.querySelector(".rule-match").value };
      if (li.querySelector(".rule-is-error").checked) rule.error = response; else rule.response = response;
      const name = li.querySelector(".rule-name").value.trim();
      if (name) rule.name = name;
      const delay = Number(li.querySelector(".rule-delay").value || 0);
      if (delay) rule.delayMs = delay;
      return rule;
    });
    const d = $(`${kind}-default`).value.trim();
    let def = null;
    if (d) { try { def = JSON.parse(d); } catch (e) { throw new Error(`${kind} default is not JSON (${e.message})`); } }
    out[kind] = { mode: $(`${kind}-mode`).value, rules, default: def };
    if (kind === "sampling" && out[kind].mode === "llm") {
      const model = $("sampling-model").value.trim();
      if (model) out[kind].model = model;
      if ($("sampling-review").checked) out[kind].review = true;
    }
  }
  out.roots = [...$("roots-list").children].map((li) => {
    const root = { uri: li.querySelector(".root-uri").value.trim() };
    const name = li.querySelector(".root-name").value.trim();
    if (name) root.name = name;
    return root;
  });
  return out;
}

// Edits act only once saved: until then the editor and its heading say so, so nobody waits for
// a rule the session does not have yet.
function dirty(on) {
  $("responders-unsaved").hidden = !on;
  const status = $("responders-status");
  status.classList.remove("is-error");
  status.textContent = on ? "Unsaved: the session still answers with the saved settings until you save." : "";
}

// Which session's settings the editor holds (null: everyone's, before any session), so a Save
// goes where the editor's contents came from.
let editing = null;
// Bumped by each load: an answer for an earlier one is not filled in.
let loads = 0;

// Where the editor's settings go: every server's, or the session's own.
function path() {
  return sessionPath("/responders", $("responders-scope").value === "session" && editing ? editing : null);
}

// What the shown session answers with, said beside the choice.
function showOwn(id, own) {
  $("responders-own").textContent = !id ? "" : own ? `${id} answers with settings of its own` : `${id} follows every server's settings`;
  $("responders-drop").hidden = !own;
}

// The editor for the shown session: its own settings when it has them, else everyone's. A
// recording or a tapped session sends nothing: only everyone's are offered there.
let shownFor;
export async function onSession(s) {
  const id = s?.id ?? null;
  const past = showsPast(s);
  $("responders-scope").querySelector('option[value="session"]').disabled = !id || past;
  const key = `${id}:${past}`;
  if (key === shownFor) return;
  shownFor = key;
  await load();
}

async function load() {
  const id = sessionId();
  const mine = ++loads;
  const own = id && !$("responders-scope").querySelector('option[value="session"]').disabled;
  $("responders-save").disabled = true;
  try {
    // A session's route answers the settings in effect for it: its own, or everyone's.
    const { body } = await call("GET", sessionPath("/responders", own ? id : null));
    if (mine !== loads) return;
    const settings = own ? body.settings : body;
    $("responders-scope").value = own && body.own ? "session" : "all";
    showOwn(own ? id : null, own && body.own);
    fill(settings);
    editing = own ? id : null;
    dirty(false);
  } catch {
    if (mine === loads) shownFor = null; // looked for again at the next state
  } finally {
    if (mine === loads) $("responders-save").disabled = false;
  }
}

async function save() {
  const status = $("responders-status");
  const target = editing;
  const own = $("responders-scope").value === "session" && target !== null;
  if (own && target !== sessionId()) {
    status.textContent = "The editor still shows another server's settings: look again before saving.";
    status.classList.add("is-error");
    return;
  }
  try {
    const { body } = await call("PUT", path(), collect());
    if (editing !== target) return; // the view moved on: its own settings are in the editor
    fill(own ? body.settings : body);
    if (own) showOwn(target, true);
    dirty(false);
    status.textContent = own ? `Saved for ${target} only.` : "Saved.";
    status.classList.remove("is-error");
  } catch (e) {
    status.textContent = e.message;
    status.classList.add("is-error");
  }
}

export function init() {
  for (const kind of ["sampling", "elicitation"]) {
    $(`${kind}-add-rule`).addEventListener("click", () => $(`${kind}-rules`).append(ruleRow(kind)));
  }
  $("roots-add").addEventListener("click", () => $("roots-list").append(rootRow()));
  $("sampling-mode").addEventListener("change", () => { $("sampling-llm").hidden = $("sampling-mode").value !== "llm"; });
  $("responders-save").addEventListener("click", save);
  // Another choice shows what it would save over: the session's own settings stay in the editor
  // as a starting point for it, unsaved.
  $("responders-scope").addEventListener("change", () => dirty(true));
  $("responders-drop").addEventListener("click", async () => {
    const id = editing;
    if (!id) return;
    try {
      await call("DELETE", sessionPath("/responders", id));
      if (id !== sessionId()) return;
      await load();
      $("responders-status").textContent = `${id} follows every server's settings again.`;
    } catch (e) {
      $("responders-status").textContent = e.message;
    }
  });
  for (const type of ["input", "change"]) $("responders").addEventListener(type, () => dirty(true));
  // Adding, moving and removing rules or roots are edits too.
  $("responders").addEventListener("click", (ev) => {
    const b = ev.target.closest("button");
    if (b && b.id !== "responders-save" && b.id !== "responders-drop") dirty(true);
  });
  load();
}
