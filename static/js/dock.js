// The dock under the work area: tabs (timeline, logs, stderr, tasks, findings; ←/→ move between them), a
// separator that resizes it by drag or by keyboard, and minimize / maximize. Its size and tab
// are remembered per browser.

import { $ } from "./dom.js";

const KEY = "mcpscope-dock";
const TABS = ["timeline", "logs", "stderr", "tasks", "findings"];
// A short window keeps more of itself for the work area (at 700 px tall, 35% left it ~380 px).
let state = { tab: "timeline", size: window.innerHeight < 800 ? 28 : 35, mode: "normal" };
const listeners = [];

// `f(tab)` runs whenever a tab is shown (the timeline redraws what became visible).
export function onShow(f) { listeners.push(f); }

function save() { localStorage.setItem(KEY, JSON.stringify(state)); }

function notify() { for (const f of listeners) f(state.tab); }

export function showTab(tab, focus = false) {
  state.tab = TABS.includes(tab) ? tab : "timeline";
  for (const t of TABS) {
    const b = $(`tab-${t}`);
    const on = t === state.tab;
    b.setAttribute("aria-selected", String(on));
    b.tabIndex = on ? 0 : -1;
    $(`panel-${t}`).hidden = !on;
  }
  if (state.mode === "min") setMode("normal");
  if (focus) $(`tab-${state.tab}`).focus();
  save();
  notify();
}

function setSize(percent) {
  state.size = Math.max(10, Math.min(90, Math.round(percent)));
  document.documentElement.style.setProperty("--dock-h", `${state.size}vh`);
  $("dock-resize").setAttribute("aria-valuenow", String(state.size));
  save();
}

export function setMode(mode) {
  state.mode = mode;
  const layout = $("layout");
  layout.classList.toggle("dock-min", mode === "min");
  layout.classList.toggle("dock-max", mode === "max");
  $("dock-min").setAttribute("aria-pressed", String(mode === "min"));
  $("dock-max").setAttribute("aria-pressed", String(mode === "max"));
  $("dock-min").textContent = mode === "min" ? "Restore" : "Minimize";
  $("dock-max").textContent = mode === "max" ? "Restore" : "Maximize";
  save();
  notify();
}

export function init() {
  try { state = { ...state, ...JSON.parse(localStorage.getItem(KEY) || "{}") }; } catch { /* defaults */ }
  for (const t of TABS) {
    $(`tab-${t}`).addEventListener("click", () => showTab(t));
    $(`tab-${t}`).addEventListener("keydown", (ev) => {
      const i = TABS.indexOf(t);
      if (ev.key === "ArrowRight") { ev.preventDefault(); showTab(TABS[(i + 1) % TABS.length], true); }
      else if (ev.key === "ArrowLeft") { ev.preventDefault(); showTab(TABS[(i + TABS.length - 1) % TABS.length], true); }
    });
  }
  $("dock-min").addEventListener("click", () => setMode(state.mode === "min" ? "normal" : "min"));
  $("dock-max").addEventListener("click", () => setMode(state.mode === "max" ? "normal" : "max"));
  const handle = $("dock-resize");
  handle.addEventListener("pointerdown", (ev) => {
    ev.preventDefault();
    handle.setPointerCapture(ev.pointerId);
    const move = (e) => setSize(((window.innerHeight - e.clientY) / window.innerHeight) * 100);
    const up = () => { handle.removeEventListener("pointermove", move); handle.removeEventListener("pointerup", up); notify(); };
    handle.addEventListener("pointermove", move);
    handle.addEventListener("pointerup", up);
  });
  handle.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowUp") { ev.preventDefault(); setSize(state.size + 5); }
    else if (ev.key === "ArrowDown") { ev.preventDefault(); setSize(state.size - 5); }
    else return;
    notify();
  });
  setSize(state.size);
  setMode(state.mode === "max" || state.mode === "min" ? state.mode : "normal");
  showTab(state.tab);
}
