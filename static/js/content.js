// Renders MCP content as DOM, for tool results, resource reads, prompt messages and sampling
// conversations alike: text (JSON text pretty-printed and collapsible), image, audio, resource
// links, embedded resources (a MIME-aware preview), tool_use and tool_result, anything else as
// JSON. Server strings go in as text; media only as data: URIs we build ourselves, so nothing is
// fetched from a server-supplied address. Media are shown at their natural size (capped to the
// pane, aspect kept) with dimensions, MIME type and byte size, and zoom on click. Markdown
// (text/markdown, or text that looks like it) has a rendered view beside the source: no raw
// HTML, no remote images, links opened only on a click. Big text shows a head with "show all"
// and a download; every block can be copied.

import { $, el, pretty } from "./dom.js";
import * as markdown from "./markdown.js";

const SHOW_LIMIT = 200 * 1024;
const SAFE_MIME = /^[a-z]+\/[a-z0-9.+-]+$/i;

export function copyButton(getText) {
  const b = el("button", { type: "button", class: "copy", title: "Copy" }, "Copy");
  b.addEventListener("click", async () => {
    try { await navigator.clipboard.writeText(getText()); b.textContent = "Copied"; } catch { b.textContent = "Copy failed"; }
    setTimeout(() => { b.textContent = "Copy"; }, 1200);
  });
  return b;
}

export function download(name, text, mime = "application/json") {
  const url = URL.createObjectURL(new Blob([text], { type: mime }));
  const a = el("a", { href: url, download: name, class: "button download" }, "Download");
  return a;
}

// A JSON (or plain) text block with copy, truncated past SHOW_LIMIT with "show all".
export function textBlock(text, { json = false, name = "result.json" } = {}) {
  const pre = el("pre", { class: json ? "json" : "content-text" });
  const tools = el("div", { class: "block-tools" }, copyButton(() => text));
  if (text.length > SHOW_LIMIT) {
    pre.textContent = `${text.slice(0, SHOW_LIMIT)}\n… (${text.length.toLocaleString()} characters in all)`;
    const all = el("button", { type: "button", class: "show-all" }, "Show all");
    all.addEventListener("click", () => { pre.textContent = text; all.remove(); });
    tools.append(all, download(name, text, json ? "application/json" : "text/plain"));
  } else {
    pre.textContent = text;
  }
  return el("div", { class: "block" }, tools, pre);
}

export function jsonBlock(value, name) {
  return textBlock(pretty(value), { json: true, name });
}

function bytesOf(base64) {
  const pad = base64.endsWith("==") ? 2 : base64.endsWith("=") ? 1 : 0;
  return Math.max(0, Math.floor((base64.length * 3) / 4) - pad);
}

// An image at its natural size, its facts underneath; a click shows it enlarged.
function image(src, mime, base64, alt) {
  const img = el("img", { class: "content-image", src, alt });
  const facts = el("div", { class: "media-facts", text: `${mime} · ${bytesOf(base64).toLocaleString()} bytes` });
  img.addEventListener("load", () => {
    facts.textContent = `${img.naturalWidth} × ${img.naturalHeight} px · ${mime} · ${bytesOf(base64).toLocaleString()} bytes`;
  });
  const zoom = el("button", { type: "button", class: "zoom-in", title: "Show enlarged", "aria-label": `Enlarge ${alt}` }, img);
  zoom.addEventListener("click", () => {
    const big = el("img", { src, alt });
    // Small images are scaled up to fill most of the window (pixels kept sharp); big ones shown 1:1.
    const w = img.naturalWidth || 1, h = img.naturalHeight || 1;
    const scale = Math.max(1, Math.min(16, Math.floor(Math.min((window.innerWidth * 0.85) / w, (window.innerHeight * 0.8) / h))));
    big.width = w * scale;
    big.height = h * scale;
    $("zoom-body").replaceChildren(big, el("p", { class: "media-facts", text: `${w} × ${h} px shown at ${scale}×` }));
    $("zoom").showModal();
  });
  return el("figure", { class: "media" }, zoom, facts);
}

function audio(src, mime, base64) {
  return el("figure", { class: "media" }, el("audio", { class: "content-audio", src, controls: true }),
    el("div", { class: "media-facts", text: `${mime} · ${bytesOf(base64).toLocaleString()} bytes` }));
}

const MARKDOWNISH = /^(#{1,6} |\s*[-*+] |\s*\d+\. |```|> )|\[[^\]]+\]\([^)]+\)|\*\*[^*]+\*\*/m;

function openLink(href) {
  if (markdown.isWebHref(href)) window.open(href, "_blank", "noopener,noreferrer");
}

// Markdown with a rendered view and the source, one button to switch.
function markdownBlock(text, name, renderedFirst) {
  const source = textBlock(text, { name });
  const rendered = el("div", { class: "markdown" });
  let built = false;
  const bRendered = el("button", { type: "button", class: "small", "aria-pressed": "false" }, "Rendered");
  const bSource = el("button", { type: "button", class: "small", "aria-pressed": "false" }, "Source");
  const showRendered = (on) => {
    if (on && !built) { rendered.append(markdown.render(markdown.parse(text), { onLink: openLink })); built = true; }
    rendered.hidden = !on;
    source.hidden = on;
    bRendered.setAttribute("aria-pressed", String(on));
    bSource.setAttribute("aria-pressed", String(!on));
  };
  bRendered.addEventListener("click", () => showRendered(true));
  bSource.addEventListener("click", () => showRendered(false));
  const wrap = el("div", { class: "markdown-block" }, el("div", { class: "view-switch", role: "group", "aria-label": "Markdown view" }, bRendered, bSource), rendered, source);
  showRendered(renderedFirst);
  return wrap;
}

function textContent(text) {
  const trimmed = String(text ?? "").trim();
  if ((trimmed.startsWith("{") || trimmed.startsWith("[")) && trimmed.length > 1) {
    try {
      const parsed = JSON.parse(trimmed);
      return el("details", { class: "json-text", open: true }, el("summary", { text: "JSON text" }), jsonBlock(parsed));
    } catch { /* not JSON after all */ }
  }
  const t = String(text ?? "");
  return t.length < SHOW_LIMIT && MARKDOWNISH.test(t) ? markdownBlock(t, "text.md", false) : textBlock(t);
}

function hexHead(base64) {
  try {
    const bin = atob(base64.slice(0, 64));
    return [...bin].slice(0, 32).map((c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join(" ");
  } catch { return "(not base64)"; }
}

// One entry of resources/read `contents`, or an embedded resource: a preview by MIME type.
export function resourcePreview(r) {
  const mime = String(r?.mimeType || "");
  const head = el("div", { class: "content-label", text: `${r?.uri ?? ""}${mime ? ` · ${mime}` : ""}` });
  if (typeof r?.text === "string") {
    if (/json/.test(mime)) {
      try { return el("div", { class: "preview" }, head, jsonBlock(JSON.parse(r.text))); } catch { /* show as text */ }
    }
    if (/markdown/.test(mime) && r.text.length < SHOW_LIMIT) return el("div", { class: "preview" }, head, markdownBlock(r.text, "resource.md", true));
    return el("div", { class: "preview" }, head, textBlock(r.text, { name: "resource.txt" }));
  }
  if (typeof r?.blob === "string") {
    const bytes = bytesOf(r.blob);
    const src = SAFE_MIME.test(mime) ? `data:${mime};base64,${r.blob}` : null;
    let media = null;
    if (src && mime.startsWith("image/")) media = image(src, mime, r.blob, String(r.uri ?? "image"));
    else if (src && mime.startsWith("audio/")) media = audio(src, mime, r.blob);
    const dl = el("a", { class: "button download", href: `data:application/octet-stream;base64,${r.blob}`, download: "resource.bin" }, "Download");
    return el("div", { class: "preview" }, head, media,
      el("div", { class: "muted", text: `${bytes.toLocaleString()} bytes (binary) · first bytes: ${hexHead(r.blob)}` }), dl);
  }
  return el("div", { class: "preview" }, head, jsonBlock(r));
}

// One content block. `onReadResource(uri)` makes resource links readable; without it they are
// shown, not clickable.
export function block(b, onReadResource) {
  if (!b || typeof b !== "object") return jsonBlock(b);
  switch (b.type) {
    case "text": return textContent(b.text);
    case "image":
    case "audio": {
      const src = SAFE_MIME.test(String(b.mimeType || "")) && typeof b.data === "string" ? `data:${b.mimeType};base64,${b.data}` : null;
      if (!src) return jsonBlock(b);
      return b.type === "image" ? image(src, b.mimeType, b.data, `image (${b.mimeType})`) : audio(src, b.mimeType, b.data);
    }
    case "resource_link":
      return el("div", { class: "resource-link" },
        el("span", { class: "content-label", text: `resource link: ${b.name ?? ""} ${b.mimeType ? `(${b.mimeType})` : ""}` }),
        onReadResource
          ? el("button", { type: "button", class: "read-link", "data-uri": String(b.uri ?? ""), onclick: () => onReadResource(String(b.uri ?? "")) }, `Read ${b.uri ?? ""}`)
          : el("span", { class: "mono", text: String(b.uri ?? "") }),
        b.description ? el("div", { class: "muted", text: b.description }) : null);
    case "tool_use":
      return el("div", { class: "content-tool" },
        el("div", { class: "content-label", text: `tool_use ${b.name ?? "?"} (id ${b.id ?? "?"})` }),
        jsonBlock(b.input));
    case "tool_result":
      return el("div", { class: "content-tool" },
        el("div", { class: "content-label", text: `tool_result for ${b.toolUseId ?? "?"}${b.isError ? " (isError)" : ""}` }),
        ...blocks(b.content, onReadResource));
    case "resource": return resourcePreview(b.resource);
    default: return jsonBlock(b);
  }
}

export function blocks(content, onReadResource) {
  if (content === undefined || content === null) return [];
  return (Array.isArray(content) ? content : [content]).map((b) => block(b, onReadResource));
}

// A sampling conversation: one row per message with its role.
export function conversation(messages, onReadResource) {
  return el("ol", { class: "conversation" }, ...(Array.isArray(messages) ? messages : []).map((m) =>
    el("li", { class: `message role-${String(m?.role ?? "unknown").replace(/[^a-z]/gi, "")}` },
      el("span", { class: "role", text: String(m?.role ?? "?") }),
      el("div", { class: "message-content" }, ...blocks(m?.content, onReadResource)))));
}

// Text of the last user message, for a sensible draft answer.
export function lastUserText(messages) {
  for (const m of [...(messages || [])].reverse()) {
    if (m?.role !== "user") continue;
    for (const b of Array.isArray(m.content) ? m.content : [m.content]) {
      if (b?.type === "text" && typeof b.text === "string") return b.text;
    }
  }
  return "";
}
