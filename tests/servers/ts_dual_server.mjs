// A TypeScript SDK 2.x server (npm @modelcontextprotocol/server), for mcpscope's protocol-era
// tests: one factory serving both eras, as the SDK's `createMcpHandler` and `serveStdio` do.
//
// Usage: node ts_dual_server.mjs stdio [--modern-only]
//        node ts_dual_server.mjs http PORT [--modern-only]
//
// --modern-only is the SDK's `legacy: 'reject'`: a legacy `initialize` is answered with -32022
// naming the modern revisions (over HTTP with status 400 too). HTTP listens on 127.0.0.1 only.
import http from 'node:http';
// The peers live in tests/peers/node_modules; ESM does not search there from here, so by path.
import { McpServer, createMcpHandler } from '../peers/node_modules/@modelcontextprotocol/server/dist/index.mjs';
import { serveStdio } from '../peers/node_modules/@modelcontextprotocol/server/dist/stdio.mjs';
import * as z from '../peers/node_modules/zod/v4/index.js';

const [mode, portArg] = process.argv.slice(2);
const modernOnly = process.argv.includes('--modern-only');

function factory() {
    const server = new McpServer({ name: 'ts-dual-peer', version: '2.4.0' }, { capabilities: { tools: {} } });
    server.registerTool(
        'shout',
        { description: 'Upper-cases its text.', inputSchema: z.object({ text: z.string() }) },
        async ({ text }) => ({ content: [{ type: 'text', text: text.toUpperCase() }] })
    );
    return server;
}

if (mode === 'stdio') {
    serveStdio(factory, { legacy: modernOnly ? 'reject' : 'serve' });
} else {
    const handler = createMcpHandler(factory, { legacy: modernOnly ? 'reject' : 'stateless' });
    http.createServer(async (req, res) => {
        const chunks = [];
        for await (const c of req) chunks.push(c);
        const body = chunks.length ? Buffer.concat(chunks) : undefined;
        const request = new Request(`http://127.0.0.1:${portArg}${req.url}`, {
            method: req.method,
            headers: req.headers,
            body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
        });
        const response = await handler.fetch(request);
        res.writeHead(response.status, Object.fromEntries(response.headers));
        if (response.body) {
            for await (const chunk of response.body) res.write(chunk);
        }
        res.end();
    }).listen(Number(portArg), '127.0.0.1');
}
