// Renders MCP content as DOM, for tool results, resource reads, prompt messages and sampling
// conversations alike: text (JSON text pretty-printed and collapsible), image, audio, resource
// links, embedded resources (a MIME-aware preview), tool_use and tool_result, anything else as
// JSON. Server strings go in as text; media only as data: URIs we build ourselves, so nothing is
// fetched from a server-supplied address. Big text shows a head with "show all" and a download;
// every block can be copied.

import { el, pretty } from "./dom.js";

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

function textContent(text) {
  const trimmed = String(text ?? "").trim();
  if ((trimmed.startsWith("{") || trimmed.startsWith("[")) && trimmed.length > 1) {
    try {
      const parsed = JSON.parse(trimmed);
      return el("details", { class: "json-text", open: true }, el("summary", { text: "JSON text" }), jsonBlock(parsed));
    } catch { /* not JSON after all */ }
  }
  return textBlock(String(text ?? ""));
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
    return el("div", { class: "preview" }, head, textBlock(r.text, { name: "resource.txt" }));
  }
  if (typeof r?.blob === "string") {
    const bytes = Math.floor((r.blob.length * 3) / 4);
    const src = SAFE_MIME.test(mime) ? `data:${mime};base64,${r.blob}` : null;
    let media = null;
    if (src && mime.startsWith("image/")) media = el("img", { class: "content-image", src, alt: r.uri ?? "image" });
    else if (src && mime.startsWith("audio/")) media = el("audio", { class: "content-audio", src, controls: true });
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
      return b.type === "image" ? el("img", { class: "content-image", src, alt: `image (${b.mimeType})` }) : el("audio", { class: "content-audio", src, controls: true });
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
