// The MCP Apps sandbox proxy, served from the apps origin (never the UI's) and framed only by
// the UI. It does what the spec's web-host sandbox does: says it is ready, takes the view's HTML
// from the host, has this origin serve it under the view's own Content-Security-Policy, frames
// it, and passes every other message between the host and the view unchanged. It creates no
// request of its own; its one report (the policy applied) is not JSON-RPC, so the host tells
// it apart.

(() => {
  const host = new URLSearchParams(location.search).get("host");
  // This page may store one view: the slot the apps origin gave it, spent before the view exists.
  const slot = document.querySelector("meta[name=mcpscope-slot]")?.content ?? "";
  let inner = null;
  let loading = false;

  const toHost = (message) => {
    try { window.parent.postMessage(message, host); } catch { /* the host's origin was not given */ }
  };

  const fill = (node) => {
    node.style.margin = "0";
    node.style.height = "100%";
    node.style.width = "100%";
    node.style.overflow = "hidden";
  };

  async function load(params) {
    if (inner || loading) return; // one view per sandbox
    loading = true;
    const res = await fetch("/views", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ slot, html: String(params?.html ?? ""), csp: params?.csp ?? null, permissions: params?.permissions ?? null }),
    });
    if (!res.ok) {
      toHost({ mcpscope: "sandbox-error", message: `the apps origin refused the view: ${res.status} ${await res.text()}` });
      return;
    }
    const view = await res.json();
    toHost({ mcpscope: "policy", csp: view.csp, allow: view.allow, ignored: view.ignored, applied: view.applied });
    inner = document.createElement("iframe");
    inner.setAttribute("sandbox", "allow-scripts allow-same-origin allow-forms");
    if (view.allow) inner.setAttribute("allow", view.allow);
    inner.title = "MCP App view";
    inner.style.border = "0";
    inner.style.display = "block";
    fill(inner);
    inner.src = view.url;
    document.body.append(inner);
  }

  window.addEventListener("message", (ev) => {
    if (ev.source === window.parent && ev.origin === host) {
      const method = ev.data?.method;
      if (method === "ui/notifications/sandbox-resource-ready") {
        load(ev.data.params).catch((e) => toHost({ mcpscope: "sandbox-error", message: String(e) }));
      } else if (typeof method === "string" && method.startsWith("ui/notifications/sandbox-")) {
        // reserved for the host and this proxy
      } else if (inner?.contentWindow) {
        // Only to a view still on this origin: one that navigated away gets nothing.
        inner.contentWindow.postMessage(ev.data, location.origin);
      }
    } else if (inner && ev.source === inner.contentWindow) {
      toHost(ev.data);
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    fill(document.documentElement);
    fill(document.body);
    toHost({ jsonrpc: "2.0", method: "ui/notifications/sandbox-proxy-ready", params: {} });
  });
})();
