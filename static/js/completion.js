// Completion dropdowns, as a real client shows them: typing asks `completion/complete` after a
// 250 ms pause with the other filled arguments as `context.arguments`; an answer to anything but
// the newest question is dropped, so an old answer never overwrites a newer one; up to 100
// values in the server's order with "N of TOTAL, more available"; ↑/↓/Enter/Esc and the mouse
// pick one (role=listbox/option). Without the `completions` capability, or on -32601, the field
// stays a plain input with a quiet note; errors are left to the timeline.

import { request } from "./api.js";
import { el } from "./dom.js";

const DEBOUNCE_MS = 250;

// The filled values of a name → input map, leaving out `except`: a request's arguments, or a
// completion's `context.arguments` (the other fields).
export function filled(inputs, except) {
  return Object.fromEntries(Object.entries(inputs).filter(([k, i]) => k !== except && i.value !== "").map(([k, i]) => [k, i.value]));
}
let seq = 0;

// `opts`: {ref, name, context: () => object, supported: () => bool, onPick?: (value) => void}
export function attach(input, opts) {
  const id = `cmp-${++seq}`;
  const list = el("ul", { id: `${id}-list`, class: "completion-list", role: "listbox", hidden: true });
  const status = el("div", { class: "completion-status muted", "aria-live": "polite" });
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("autocomplete", "off");
  const wrap = el("div", { class: "completion" });
  input.replaceWith(wrap);
  wrap.append(input, list, status);

  let timer = null;
  let generation = 0;
  let active = -1;
  let values = [];
  let disabledWhy = null;

  const close = () => { list.hidden = true; input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant"); active = -1; };
  const highlight = (i) => {
    active = i;
    [...list.children].forEach((li, j) => li.setAttribute("aria-selected", String(j === i)));
    const li = list.children[i];
    if (li) { input.setAttribute("aria-activedescendant", li.id); li.scrollIntoView({ block: "nearest" }); }
  };
  const pick = (i) => {
    if (i < 0 || i >= values.length) return;
    input.value = values[i];
    close();
    status.textContent = ""; // the count described the list just closed
    input.dispatchEvent(new Event("input", { bubbles: true }));
    opts.onPick?.(values[i]);
    clearTimeout(timer); // picking is not typing: no new question
    generation++;
  };

  async function ask() {
    if (!opts.supported()) {
      disabledWhy = "no suggestions: the server does not declare the completions capability";
      status.textContent = disabledWhy;
      return;
    }
    if (disabledWhy) return;
    const mine = ++generation;
    const params = { ref: opts.ref, argument: { name: opts.name, value: input.value } };
    const context = opts.context?.() || {};
    if (Object.keys(context).length) params.context = { arguments: context };
    let body;
    try { ({ body } = await request("completion/complete", params)); } catch { return; }
    if (mine !== generation) return; // a newer question is out; this answer is stale
    if (body.error) {
      if (body.error.code === -32601) {
        disabledWhy = "no suggestions: the server answered completion/complete with -32601";
        status.textContent = disabledWhy;
      }
      return;
    }
    const c = body.result?.completion || {};
    // Keep the user's highlighted choice if the newer answer still offers it.
    const kept = active >= 0 ? values[active] : undefined;
    values = (Array.isArray(c.values) ? c.values : []).slice(0, 100).map(String);
    list.replaceChildren(...values.map((v, i) => el("li", {
      id: `${id}-opt-${i}`, role: "option", class: "completion-option", "aria-selected": "false",
      onmousedown: (ev) => { ev.preventDefault(); pick(i); },
    }, v)));
    const total = typeof c.total === "number" ? c.total : null;
    status.textContent = values.length === 0 ? "no suggestions"
      : `${values.length}${total !== null ? ` of ${total}` : ""}${c.hasMore ? ", more available" : ""}`;
    const open = values.length > 0 && document.activeElement === input;
    list.hidden = !open;
    input.setAttribute("aria-expanded", String(open));
    active = -1;
    if (kept !== undefined && values.includes(kept)) highlight(values.indexOf(kept));
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(ask, DEBOUNCE_MS);
  });
  input.addEventListener("focus", () => { clearTimeout(timer); timer = setTimeout(ask, DEBOUNCE_MS); });
  input.addEventListener("blur", () => setTimeout(close, 100));
  input.addEventListener("keydown", (ev) => {
    if (list.hidden && (ev.key === "ArrowDown" || ev.key === "ArrowUp") && values.length) {
      list.hidden = false; input.setAttribute("aria-expanded", "true");
    }
    if (list.hidden) return;
    if (ev.key === "ArrowDown") { ev.preventDefault(); highlight(Math.min(active + 1, values.length - 1)); }
    else if (ev.key === "ArrowUp") { ev.preventDefault(); highlight(Math.max(active - 1, 0)); }
    else if (ev.key === "Enter") { if (active >= 0) { ev.preventDefault(); pick(active); } }
    else if (ev.key === "Escape") { ev.preventDefault(); close(); }
  });
  return { wrap, status };
}
