// The responders editor: sampling and elicitation mode (manual, mock, or for sampling llm: a
// model answers, optionally held for review), their ordered rules
// (regex → canned result, optional delay) and default, and the roots list. Saved with
// PUT /api/responders; the backend validates and may persist them to --responders FILE.

import { call } from "./api.js";
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

async function save() {
  const status = $("responders-status");
  try {
    const { body } = await call("PUT", "/api/responders", collect());
    fill(body);
    dirty(false);
    status.textContent = "Saved.";
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
  for (const type of ["input", "change"]) $("responders").addEventListener(type, () => dirty(true));
  // Adding, moving and removing rules or roots are edits too.
  $("responders").addEventListener("click", (ev) => {
    const b = ev.target.closest("button");
    if (b && b.id !== "responders-save") dirty(true);
  });
  call("GET", "/api/responders").then(({ body }) => fill(body)).catch(() => {});
}
