// The probe each MCP App view gets as its first script (the apps origin puts it there): it
// tells the host, through the sandbox, what the view cannot — a request its policy blocked, an
// error its code threw — because a blank app says nothing of why. Not JSON-RPC, so the host
// never takes it for the app's own traffic.

(() => {
  const up = (report) => {
    try { window.parent.postMessage({ mcpscope: report.kind, ...report }, "*"); } catch { /* nothing to tell */ }
  };
  document.addEventListener("securitypolicyviolation", (e) => up({
    kind: "violation",
    directive: e.effectiveDirective || e.violatedDirective || "",
    blocked: e.blockedURI || "",
    source: e.sourceFile || undefined,
    line: e.lineNumber || undefined,
  }));
  window.addEventListener("error", (e) => up({
    kind: "error",
    message: e.message || String(e.error),
    source: e.filename || undefined,
    line: e.lineno || undefined,
  }));
  window.addEventListener("unhandledrejection", (e) => up({
    kind: "error",
    message: `unhandled rejection: ${e.reason?.message ?? String(e.reason)}`,
  }));
})();
