// MCP Apps in the detail pane: a call to a tool that names a `ui://` view renders that view
// under its result, in a sandbox on the apps origin (apphost.js runs the bridge). Around it, what
// a server author needs and no host shows: the host context, switchable live (theme, display
// mode, locale, time zone, container width), what the app said (ui/message, model context,
// logs, links it asked to open, each answered by a person), what went wrong inside it, and the
// policy it runs under. One app is open at a time: another entry, item or server tears it down.

import { call, sessionPath, showsPast } from "./api.js";
import { el, pretty } from "./dom.js";
import * as result from "./result.js";
import { AppHost, MIME, appsPort, viewOrigin, viewUri } from "./apphost.js";

export { viewUri };

const MAX_HEIGHT = 2000;
const WIDTHS = [["fill", "Fill the pane"], ["320", "320 px (phone)"], ["480", "480 px"], ["768", "768 px (tablet)"]];
const EXTENSION = "io.modelcontextprotocol/ui";

let deps = null; // {session(), toolNamed(name), version}
let current = null; // {entry, box, parts, host}
let shows = 0; // the newest show(): an older one that resumes after it gives way
const resources = new Map(); // "session|uri" → the resources/read content last read

// Whether the session declared the extension (a session connected with apps off shows none).
function hosting(session) {
  return Boolean(session?.clientCapabilities?.extensions?.[EXTENSION]) && !showsPast(session);
}

function pageTheme() {
  const t = document.documentElement.dataset.theme;
  if (t === "light" || t === "dark") return t;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

// A few of the spec's standard variables, from the page's own palette, so an app that uses
// them looks at home; `light-dark()` lets the view follow its theme.
function styles() {
  const css = getComputedStyle(document.documentElement);
  const v = (name) => css.getPropertyValue(name).trim();
  return {
    variables: {
      "--color-background-primary": v("--panel"),
      "--color-background-secondary": v("--bg"),
      "--color-text-primary": v("--fg"),
      "--color-text-secondary": v("--muted"),
      "--color-border-primary": v("--line"),
      "--color-ring-primary": v("--accent"),
      "--font-mono": v("--mono"),
      "--font-sans": getComputedStyle(document.body).fontFamily,
    },
  };
}

// Shows `entry`'s app (or none) in `box`. The same entry again only hears of its outcome.
export async function show(box, entry) {
  if (current && current.entry === entry && current.box === box) {
    // Its view may still be being read: the host, once made, takes the outcome from the entry.
    if (entry && !entry.pending) current.host?.settled(entry.body, entry.requestId);
    return;
  }
  const mine = ++shows;
  await close("another result is shown");
  if (mine !== shows) return;
  // Another show() that ran while this one waited may have opened an app: it goes too.
  if (current) await close("another result is shown");
  if (mine !== shows) return;
  const session = deps.session();
  const uri = entry?.app?.tool ? viewUri(entry.app.tool) : null;
  if (!uri || !appsPort() || !hosting(session) || entry.session !== session.id) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const parts = panel(uri);
  // The panel's observers go with it, even when it is closed before its view was read.
  const opened = { entry, box, parts };
  current = opened;
  box.replaceChildren(parts.root);
  box.hidden = false;
  parts.status("Reading the view (resources/read)…");
  const key = `${session.id}|${uri}`;
  let content = entry.pending ? null : resources.get(key);
  if (!content) {
    try {
      const { body } = await call("POST", sessionPath("/request", session.id), { method: "resources/read", params: { uri } });
      content = (body?.result?.contents ?? []).find((c) => c?.uri === uri) ?? body?.result?.contents?.[0];
      if (!content) throw new Error(body?.error?.message ?? "the server returned no content for it");
      resources.set(key, content);
    } catch (e) {
      if (current !== opened) return;
      parts.status(`The view ${uri} could not be read: ${e?.body?.error?.message ?? e.message}`, true);
      return;
    }
  }
  if (current !== opened) return;
  if (content.mimeType !== MIME) parts.problem(`The view's mimeType is ${JSON.stringify(content.mimeType ?? null)}, not ${MIME}: other hosts may refuse it.`);
  const meta = content._meta?.ui ?? {};
  parts.wrap.classList.toggle("bordered", meta.prefersBorder !== false);
  const origin = await viewOrigin(session.serverInfo?.name ?? session.id, uri);
  if (current !== opened) return;
  const host = new AppHost({
    session: session.id, tool: entry.app.tool, args: entry.params?.arguments ?? {}, uri, resource: content,
    origin, version: deps.version, context: context(parts), ui: parts.ui,
  });
  opened.host = host;
  parts.host = host;
  parts.wrap.append(host.frame());
  host.called(entry.requestId);
  if (!entry.pending) host.settled(entry.body, entry.requestId);
}

// Tears the open app down (the view is asked first, briefly).
export async function close(reason) {
  const c = current;
  current = null;
  if (!c) return;
  if (c.host) await c.host.teardown(reason);
  c.parts?.stop();
  if (!current) { c.box.hidden = true; c.box.replaceChildren(); }
}

function context(parts) {
  return {
    theme: parts.choice.theme === "page" ? pageTheme() : parts.choice.theme,
    styles: styles(),
    displayMode: "inline",
    availableDisplayModes: ["inline", "fullscreen", "pip"],
    containerDimensions: parts.dimensions(),
    locale: parts.choice.locale,
    timeZone: parts.choice.timeZone,
    userAgent: `mcpscope/${deps.version}`,
    platform: "web",
    deviceCapabilities: { touch: false, hover: true },
    safeAreaInsets: { top: 0, right: 0, bottom: 0, left: 0 },
  };
}

function select(label, options, value, onChange) {
  const s = el("select", { "aria-label": label, onchange: () => onChange(s.value) },
    ...options.map(([v, text]) => el("option", { value: v, selected: v === value }, text)));
  return el("label", {}, `${label} `, s);
}

// The panel around one app, and what the bridge may ask of the page.
function panel(uri) {
  const choice = {
    theme: "page",
    width: "fill",
    locale: navigator.language || "en-US",
    timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
  };
  let mode = "inline";
  const status = el("p", { class: "app-status", role: "status" });
  const problems = el("ul", { class: "app-problems", "aria-label": "Problems inside the app" });
  const log = el("ol", { class: "app-log", "aria-label": "What the app said" });
  const who = el("span", { class: "muted app-who" });
  const exit = el("button", { type: "button", class: "small app-exit", hidden: true, onclick: () => setMode("inline", true) }, "Back to inline");
  const wrap = el("div", { class: "app-frame" }, exit);
  const policy = el("pre", { class: "json app-policy" });
  const appTools = el("div", { class: "app-tools" });
  const toolsBox = el("details", { class: "app-tools-box", hidden: true },
    el("summary", {}, "The app's own tools"),
    el("p", { class: "muted", text: "The app declares tools a host may call (appCapabilities.tools): list them and call them as a model would, through the bridge." }),
    el("button", { type: "button", class: "small", onclick: () => listAppTools() }, "List the app's tools (tools/list)"),
    appTools);
  const parts = {};

  // The app's tools, each with its arguments as JSON and a Call button; answers shown under it.
  async function listAppTools() {
    appTools.replaceChildren(el("p", { class: "muted", text: "Asking the app…" }));
    const answer = await parts.host.askApp("tools/list", {});
    const list = answer?.result?.tools;
    if (!Array.isArray(list)) {
      appTools.replaceChildren(el("p", { class: "status-error", text: `tools/list: ${answer?.error?.message ?? "no tools in the answer"}` }));
      return;
    }
    appTools.replaceChildren(...list.map((t) => {
      const name = String(t?.name ?? "");
      const args = el("textarea", { rows: 2, spellcheck: "false", "aria-label": `Arguments of the app's tool ${name}` });
      args.value = "{}";
      const out = el("div", { class: "result app-tool-result", role: "status" });
      const callIt = async () => {
        let parsed;
        try { parsed = JSON.parse(args.value || "{}"); } catch (e) { out.replaceChildren(el("p", { class: "status-error", text: `Arguments are not valid JSON: ${e.message}` })); return; }
        out.replaceChildren(el("p", { class: "muted", text: "Waiting for the app…" }));
        const got = await parts.host.askApp("tools/call", { name, arguments: parsed });
        // Drawn like a server's answer: content blocks, structuredContent, the raw answer.
        await result.render(out, got?.error ? { error: got.error } : { result: got?.result });
      };
      return el("div", { class: "app-tool" },
        el("div", {}, el("code", { class: "wire-name", text: name }), t?.title ? ` ${t.title}` : "",
          t?.description ? el("span", { class: "muted", text: ` · ${t.description}` }) : ""),
        args, el("button", { type: "button", class: "small", onclick: callIt }, `Call ${name}`), out);
    }));
  }

  const dimensions = () => {
    if (mode === "fullscreen") return { width: window.innerWidth, height: window.innerHeight };
    if (mode === "pip") return { width: 360, height: 260 };
    const width = choice.width === "fill" ? Math.round(wrap.clientWidth || 600) : Number(choice.width);
    return { width, maxHeight: MAX_HEIGHT };
  };
  const changed = (partial) => parts.host?.contextChanged(partial);
  const applyWidth = () => {
    const f = wrap.querySelector("iframe");
    if (f) f.style.width = choice.width === "fill" || mode !== "inline" ? "100%" : `${choice.width}px`;
  };
  function setMode(m, tell = false) {
    mode = m;
    wrap.classList.toggle("app-fullscreen", m === "fullscreen");
    wrap.classList.toggle("app-pip", m === "pip");
    exit.hidden = m === "inline";
    modeSelect.querySelector("select").value = m;
    applyWidth();
    if (tell) changed({ displayMode: m, containerDimensions: dimensions() });
    return m;
  }
  const modeSelect = select("Display mode", [["inline", "inline"], ["fullscreen", "fullscreen"], ["pip", "picture-in-picture"]], "inline", (m) => setMode(m, true));
  const themeSelect = select("Theme", [["page", "as this page"], ["light", "light"], ["dark", "dark"]], "page", (t) => {
    choice.theme = t;
    changed({ theme: t === "page" ? pageTheme() : t });
  });
  const widthSelect = select("Width", WIDTHS, "fill", (w) => {
    choice.width = w;
    applyWidth();
    changed({ containerDimensions: dimensions() });
  });
  const text = (label, key) => {
    const input = el("input", { type: "text", value: choice[key], spellcheck: "false", "aria-label": label });
    input.addEventListener("change", () => { choice[key] = input.value.trim(); changed({ [key]: choice[key] }); });
    return el("label", {}, `${label} `, input);
  };
  const controls = el("details", { class: "app-context" },
    el("summary", {}, "Host context"),
    el("div", { class: "app-controls" }, themeSelect, modeSelect, widthSelect, text("Locale", "locale"), text("Time zone", "timeZone")),
    el("p", { class: "muted", text: "Each change is sent to the app as ui/notifications/host-context-changed." }));

  // The page's own theme changing reaches an app that follows it.
  const follow = () => { if (choice.theme === "page") changed({ theme: pageTheme(), styles: styles() }); };
  const observer = new MutationObserver(follow);
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  const media = matchMedia("(prefers-color-scheme: dark)");
  media.addEventListener("change", follow);
  let lastWidth = 0;
  const resized = new ResizeObserver(() => {
    const w = Math.round(wrap.clientWidth);
    if (mode === "inline" && choice.width === "fill" && lastWidth && Math.abs(w - lastWidth) > 4) changed({ containerDimensions: dimensions() });
    lastWidth = w;
  });
  resized.observe(wrap);
  const onKey = (ev) => { if (ev.key === "Escape" && mode !== "inline") setMode("inline", true); };
  document.addEventListener("keydown", onKey);

  const entry = (kind, textValue, detail) => {
    const li = el("li", { class: `app-said app-said-${kind}` },
      el("span", { class: "badge", text: kind }), " ", el("span", { text: textValue }));
    if (detail !== undefined) li.append(el("details", {}, el("summary", {}, "as sent"), el("pre", { class: "json", text: pretty(detail) })));
    log.append(li);
    while (log.children.length > 100) log.firstElementChild.remove();
    return li;
  };

  Object.assign(parts, {
    wrap, choice, dimensions,
    root: el("section", { class: "app-panel", "aria-label": `MCP App ${uri}` },
      el("div", { class: "app-head" },
        el("h4", {}, "App ", el("code", { class: "wire-name", text: uri })), who,
        el("button", { type: "button", class: "small", onclick: () => close("closed by the user") }, "Close app")),
      status, problems, controls, wrap, log, toolsBox,
      el("details", { class: "app-policy-box" }, el("summary", {}, "Content-Security-Policy applied"), policy)),
    status: (message, bad = false) => { status.textContent = message; status.classList.toggle("status-error", bad); },
    problem: (message) => {
      problems.append(el("li", { text: message }));
      while (problems.children.length > 20) problems.firstElementChild.remove();
    },
    stop: () => {
      observer.disconnect();
      media.removeEventListener("change", follow);
      resized.disconnect();
      document.removeEventListener("keydown", onKey);
    },
  });
  parts.ui = {
    status: parts.status,
    problem: parts.problem,
    policy: (p) => { policy.textContent = `${p.csp}${p.allow ? `\nallow="${p.allow}"` : ""}${p.ignored.length ? `\n\nnot applied:\n${p.ignored.join("\n")}` : ""}`; },
    appInfo: (info, caps) => {
      const name = info && typeof info === "object" ? `${info.name ?? "?"} ${info.version ?? ""}`.trim() : "an app";
      const declared = Array.isArray(caps?.availableDisplayModes) ? caps.availableDisplayModes : null;
      who.textContent = `${name}${declared ? ` · modes: ${declared.join(", ")}` : ""}`;
      toolsBox.hidden = !(caps?.tools && typeof caps.tools === "object");
      // A host must not switch a view to a mode it did not declare.
      for (const o of modeSelect.querySelectorAll("option")) o.disabled = Boolean(declared) && o.value !== "inline" && !declared.includes(o.value);
    },
    resize: ({ height, width }) => {
      const f = wrap.querySelector("iframe");
      if (!f || mode !== "inline") return;
      if (Number.isFinite(height)) f.style.height = `${Math.max(24, Math.min(MAX_HEIGHT, Math.ceil(height)))}px`;
      if (Number.isFinite(width) && choice.width !== "fill") f.style.width = `${Math.max(24, Math.min(Number(choice.width), Math.ceil(width)))}px`;
    },
    log: (kind, message, detail) => { entry(kind, message, detail); },
    openLink: (url) => new Promise((resolve) => {
      const li = entry("open-link", `The app asks to open ${url}`);
      const done = (yes) => { for (const b of li.querySelectorAll("button")) b.disabled = true; li.append(el("span", { class: "muted", text: yes ? " — opened" : " — refused" })); resolve(yes); };
      li.append(" ",
        el("button", { type: "button", class: "small", onclick: () => { window.open(url, "_blank", "noopener,noreferrer"); done(true); } }, "Open link"), " ",
        el("button", { type: "button", class: "small", onclick: () => done(false) }, "Refuse"));
    }),
    displayMode: (m) => setMode(m),
    close: (reason) => { if (current?.parts === parts) close(reason); },
    toolNamed: (session, name) => deps.toolNamed(session, name),
  };
  return parts;
}

export function init(d) {
  deps = d;
}
