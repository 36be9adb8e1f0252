// The JSON-RPC error codes MCP gives a meaning to, read into words and the facts in their `data`
// (no DOM): which code it is, what it asks of a client, and the fields that say why. The codes
// a modern HTTP server answers with 400 (-32020..-32022) and the legacy URL elicitation one
// (-32042) carry data that matters more than the message.

const KNOWN = {
  "-32700": ["Parse error", "the server could not parse what it received as JSON"],
  "-32600": ["Invalid request", "the message was not a valid JSON-RPC request"],
  "-32601": ["Method not found", "the server does not offer this method (or the capability it belongs to), or a task-required tool was called without a task"],
  "-32602": ["Invalid params", "the parameters were refused: an unknown name, bad arguments, a bad cursor, or (modern) something not found"],
  "-32603": ["Internal error", "the server failed while handling the request"],
  "-32002": ["Resource not found", "legacy code for a resource the server does not have"],
  "-32042": ["URL elicitation required", "the server wants the user to open the URLs below (only on your click) and then the call to be retried"],
  "-32020": ["Header mismatch", "an Mcp-* routing header did not match the JSON-RPC body; list the tools again and retry"],
  "-32021": ["Missing required client capability", "the request needs a client capability this session did not declare"],
  "-32022": ["Unsupported protocol version", "the server does not speak the version asked for; retry with one both sides support"],
};

const list = (v) => (Array.isArray(v) ? v.map((x) => (typeof x === "string" ? x : JSON.stringify(x))).join(", ") : JSON.stringify(v));

// {name, meaning, facts: [[label, text]]} for a known code; null otherwise.
export function describe(error) {
  const code = error && typeof error === "object" ? error.code : undefined;
  const known = KNOWN[String(code)];
  if (!known) return null;
  const [name, meaning] = known;
  const data = error.data && typeof error.data === "object" ? error.data : {};
  const facts = [];
  if (code === -32022) {
    if ("requested" in data) facts.push(["requested", String(data.requested)]);
    if ("supported" in data) facts.push(["supported", list(data.supported)]);
  } else if (code === -32021) {
    if ("requiredCapabilities" in data) facts.push(["required capabilities", list(Array.isArray(data.requiredCapabilities) ? data.requiredCapabilities : Object.keys(data.requiredCapabilities ?? {}))]);
  } else if (code === -32020) {
    for (const key of ["header", "expected", "actual"]) if (key in data) facts.push([key, String(data[key])]);
  } else if (code === -32042 && Array.isArray(data.elicitations)) {
    for (const e of data.elicitations) facts.push([e?.elicitationId ? `elicitation ${e.elicitationId}` : "elicitation", typeof e?.url === "string" ? e.url : JSON.stringify(e)]);
  }
  return { name, meaning, facts };
}
