// The theme: the OS's choice unless the user picks light or dark; remembered per browser.

import { $ } from "./dom.js";

const KEY = "mcpscope-theme";

function apply(choice) {
  if (choice === "light" || choice === "dark") document.documentElement.dataset.theme = choice;
  else delete document.documentElement.dataset.theme;
}

export function init() {
  const saved = localStorage.getItem(KEY) || "system";
  apply(saved);
  $("theme").value = saved;
  $("theme").addEventListener("change", () => {
    localStorage.setItem(KEY, $("theme").value);
    apply($("theme").value);
  });
}
