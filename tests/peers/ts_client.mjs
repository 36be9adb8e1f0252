// A real MCP client (the TypeScript SDK's Client, 1.x), for the tap, proxy and mock tests: it
// connects as an application would, runs a fixed script of calls and prints what it got as one
// JSON object, so a test can compare a direct run with one through mcpscope.
//
//   node ts_client.mjs stdio COMMAND [ARGS...]
//   node ts_client.mjs http URL
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [kind, ...rest] = process.argv.slice(2);
const transport =
  kind === "stdio"
    ? new StdioClientTransport({ command: rest[0], args: rest.slice(1), env: process.env, stderr: "inherit" })
    : new StreamableHTTPClientTransport(new URL(rest[0]));
const client = new Client({ name: "ts-sdk-test-client", version: "1.0.0" });
await client.connect(transport);
const out = { serverInfo: client.getServerVersion(), results: [], errors: [] };
const steps = [
  ["tools/list", () => client.listTools()],
  ["tools/call", () => client.callTool({ name: "echo", arguments: { message: "through the tap" } })],
  ["resources/list", () => client.listResources()],
  ["prompts/list", () => client.listPrompts()],
];
for (const [method, run] of steps) {
  try {
    out.results.push([method, await run()]);
  } catch (e) {
    out.errors.push([method, String(e.message || e)]);
  }
}
await client.close();
console.log(JSON.stringify(out));
