// The command palette (Ctrl/⌘+K) and the page-wide keys: `/` focuses the item search, the
// palette jumps to any server, tool, resource, template, prompt or panel by a few letters of its
// title or wire name, and puts the focus where the work goes on (an item's first field). It is a
// modal dialog with a combobox and a listbox (↑/↓, Enter, Esc).

import { $, $maybe, el } from "./dom.js";
import * as items from "./items.js";
import * as dock from "./dock.js";

const MAX = 60;
let sources = null;
let matches = [];
let active = 0;

function typing(target) {
  const t = target?.tagName;
  return t === "INPUT" || t === "TEXTAREA" || t === "SELECT" || target?.isContentEditable;
}

// Every destination, built fresh on each opening (lists change).
function entries() {
  const { tools, resources, prompts, openRaw, connect, servers, switchTo, focusFirst } = sources;
  const out = [];
  for (const s of servers.all()) out.push({ kind: "server", title: s.name || s.id, name: `${s.id} · ${s.state}`, go: async () => { await switchTo(s.id); items.focusSearch(); } });
  const item = (kind, title, name, open) => out.push({ kind, title, name, go: () => { open(); focusFirst(); } });
  for (const t of tools.all()) item("tool", tools.title(t), t.name, () => tools.select(t));
  const { resources: rs, templates } = resources.all();
  for (const r of rs) item("resource", r.title || r.name || r.uri, r.uri, () => resources.select(r));
  for (const t of templates) item("template", t.title || t.name || t.uriTemplate, t.uriTemplate, () => resources.selectTemplate(t));
  for (const p of prompts.all()) item("prompt", p.title || p.name, p.name, () => prompts.select(p));
  const panel = (title, go) => out.push({ kind: "panel", title, name: "", go });
  const openBox = (id, focus) => () => { $(id).open = true; $(id).scrollIntoView({ block: "nearest" }); $maybe(focus)?.focus(); };
  panel("Send any request", openRaw);
  panel("Timeline", () => { dock.showTab("timeline"); $("timeline").focus(); });
  panel("Logs", () => { dock.showTab("logs", true); });
  panel("stderr", () => { dock.showTab("stderr", true); });
  panel("Connect a new server", () => connect.openAsNew());
  panel("Catalog", openBox("catalog-box", "catalog-list"));
  panel("Responders & roots", openBox("responders", "sampling-mode"));
  panel("Server requests", () => { $("pending-panel").hidden = false; $("pending-close").focus(); });
  panel("Search the lists", () => items.focusSearch());
  return out;
}

function score(e, words) {
  const hay = `${e.title} ${e.name} ${e.kind}`.toLowerCase();
  let s = 0;
  for (const w of words) {
    const at = hay.indexOf(w);
    if (at < 0) return -1;
    s += at === 0 ? 3 : hay[at - 1] === " " || hay[at - 1] === "-" || hay[at - 1] === "/" || hay[at - 1] === "_" ? 2 : 1;
  }
  return s;
}

function render() {
  const words = $("palette-input").value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const all = entries();
  matches = words.length
    ? all.map((e) => [score(e, words), e]).filter(([s]) => s >= 0).sort((a, b) => b[0] - a[0]).map(([, e]) => e)
    : all;
  matches = matches.slice(0, MAX);
  active = Math.min(active, Math.max(0, matches.length - 1));
  $("palette-list").replaceChildren(...matches.map((e, i) => el("li", {
    id: `palette-opt-${i}`, role: "option", "aria-selected": String(i === active),
    onmousedown: (ev) => { ev.preventDefault(); go(i); },
  }, el("span", { class: "kind", text: e.kind }), el("span", { text: e.title }), e.name && e.name !== e.title ? el("code", { class: "wire-name", text: e.name }) : null)));
  if (matches.length) $("palette-input").setAttribute("aria-activedescendant", `palette-opt-${active}`);
  else $("palette-input").removeAttribute("aria-activedescendant");
}

function move(d) {
  if (!matches.length) return;
  active = (active + d + matches.length) % matches.length;
  for (const [i, li] of [...$("palette-list").children].entries()) li.setAttribute("aria-selected", String(i === active));
  $("palette-input").setAttribute("aria-activedescendant", `palette-opt-${active}`);
  $maybe(`palette-opt-${active}`)?.scrollIntoView({ block: "nearest" });
}

function go(i) {
  const e = matches[i];
  $("palette").close();
  e?.go();
}

export function open() {
  $("palette-input").value = "";
  active = 0;
  render();
  if (!$("palette").open) $("palette").showModal();
  $("palette-input").focus();
}

export function init(s) {
  sources = s;
  $("palette-open").addEventListener("click", open);
  $("palette-input").addEventListener("input", () => { active = 0; render(); });
  $("palette-input").addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown") { ev.preventDefault(); move(1); }
    else if (ev.key === "ArrowUp") { ev.preventDefault(); move(-1); }
    else if (ev.key === "Enter") { ev.preventDefault(); go(active); }
  });
  document.addEventListener("keydown", (ev) => {
    if ((ev.ctrlKey || ev.metaKey) && !ev.altKey && ev.key.toLowerCase() === "k") { ev.preventDefault(); open(); }
    else if (ev.key === "/" && !ev.ctrlKey && !ev.metaKey && !ev.altKey && !typing(ev.target) && !$("palette").open) { ev.preventDefault(); items.focusSearch(); }
  });
}
