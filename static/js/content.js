// Renders MCP content blocks (text, image, audio, resource, tool_use, tool_result, anything
// else as JSON) as DOM. Server strings go in as text; media only as data: URIs we build
// ourselves, so nothing is fetched from a server-supplied address.

import { el, pretty } from "./dom.js";

const SAFE_MIME = /^[a-z]+\/[a-z0-9.+-]+$/i;

function dataUri(mimeType, data) {
  if (typeof data !== "string" || !SAFE_MIME.test(String(mimeType || ""))) return null;
  return `data:${mimeType};base64,${data}`;
}

export function block(b) {
  if (!b || typeof b !== "object") return el("pre", { class: "json", text: pretty(b) });
  switch (b.type) {
    case "text":
      return el("pre", { class: "content-text", text: String(b.text ?? "") });
    case "image": {
      const src = dataUri(b.mimeType, b.data);
      return src ? el("img", { class: "content-image", src, alt: `image (${b.mimeType})` })
        : el("pre", { class: "json", text: pretty(b) });
    }
    case "audio": {
      const src = dataUri(b.mimeType, b.data);
      return src ? el("audio", { class: "content-audio", src, controls: true })
        : el("pre", { class: "json", text: pretty(b) });
    }
    case "tool_use":
      return el("div", { class: "content-tool" },
        el("div", { class: "content-label", text: `tool_use ${b.name ?? "?"} (id ${b.id ?? "?"})` }),
        el("pre", { class: "json", text: pretty(b.input) }));
    case "tool_result":
      return el("div", { class: "content-tool" },
        el("div", { class: "content-label", text: `tool_result for ${b.toolUseId ?? "?"}${b.isError ? " (isError)" : ""}` }),
        ...blocks(b.content));
    case "resource":
      return el("div", { class: "content-resource" },
        el("div", { class: "content-label", text: `resource ${b.resource?.uri ?? ""}` }),
        el("pre", { class: "content-text", text: b.resource?.text ?? pretty(b.resource) }));
    default:
      return el("pre", { class: "json", text: pretty(b) });
  }
}

export function blocks(content) {
  if (content === undefined || content === null) return [];
  return (Array.isArray(content) ? content : [content]).map(block);
}

// A sampling conversation: one row per message with its role.
export function conversation(messages) {
  return el("ol", { class: "conversation" }, ...(Array.isArray(messages) ? messages : []).map((m) =>
    el("li", { class: `message role-${String(m?.role ?? "unknown").replace(/[^a-z]/gi, "")}` },
      el("span", { class: "role", text: String(m?.role ?? "?") }),
      el("div", { class: "message-content" }, ...blocks(m?.content)))));
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
