"""A deliberately spec-breaking MCP server over stdio, for `mcpscope lint`: every lint rule has
something here to find. Standard library only; newline-delimited JSON-RPC.

- initialize: a roots/list request before the answer (so before the client's
  notifications/initialized), an unknown protocol version, capabilities without logging or
  listChanged;
- after initialized: a log message and tools/list_changed (both undeclared), progress for a
  token nobody sent, and two requests with the same id;
- tools/list: a bad name, a name listed twice, a string inputSchema, an invalid one, two tools
  whose answers break their outputSchema, and a page cursor that repeats;
- resources: a URI that is not one, an image read as text, a mimeType that changes between list
  and read, a template that never closes, and a second page of resources/list that fails with
  error code 0 (what an unhandled exception becomes in the Python SDK);
- prompts/list answered -32601 although prompts is declared;
- "slow" answers after 2 s even when the client cancelled it.
"""

import json
import sys
import threading
import time

lock = threading.Lock()


def send(message):
    with lock:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()


def result(id, value):
    send({"jsonrpc": "2.0", "id": id, "result": value})


def error(id, code, message):
    send({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})


OBJECT = {"type": "object"}
OUTPUT = {"type": "object", "properties": {"n": {"type": "number"}}, "required": ["n"]}
PAGE_1 = [
    {"name": "bad name!", "inputSchema": OBJECT},
    {"name": "dup", "inputSchema": OBJECT},
    {"name": "string_schema", "inputSchema": {"type": "string"}},
    {"name": "invalid_schema", "inputSchema": {"type": "object", "properties": {"x": {"type": "nonsense"}}}},
]
PAGE_2 = [
    {"name": "dup", "inputSchema": OBJECT},
    {"name": "no_structured", "inputSchema": OBJECT, "outputSchema": OUTPUT},
    {"name": "wrong_structured", "inputSchema": OBJECT, "outputSchema": OUTPUT},
    {"name": "slow", "inputSchema": OBJECT},
]


def call_tool(id, name):
    if name == "no_structured":
        result(id, {"content": [{"type": "text", "text": "5"}]})
    elif name == "wrong_structured":
        result(id, {"content": [{"type": "text", "text": '{"n": "five"}'}], "structuredContent": {"n": "five"}})
    elif name == "slow":
        def later():
            time.sleep(2)
            result(id, {"content": [{"type": "text", "text": "late"}]})
        threading.Thread(target=later, daemon=True).start()
    else:
        result(id, {"content": [{"type": "text", "text": "ok"}]})


def read(id, uri):
    if uri == "file:///img.png":
        result(id, {"contents": [{"uri": uri, "mimeType": "image/png", "text": "this is not a PNG"}]})
    elif uri == "file:///notes.txt":
        result(id, {"contents": [{"uri": uri, "mimeType": "application/json", "text": "plain words"}]})
    else:
        error(id, -32002, "Resource not found")


def handle(msg):
    method, id, params = msg.get("method"), msg.get("id"), msg.get("params") or {}
    if method is None:
        return  # an answer to one of our requests
    if id is None:
        if method == "notifications/initialized":
            send({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": "hello"}})
            send({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
            send({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": "nobody-sent-this", "progress": 1}})
            send({"jsonrpc": "2.0", "id": 7, "method": "ping"})
            send({"jsonrpc": "2.0", "id": 7, "method": "ping"})
        return
    if method == "initialize":
        # Before answering: the client cannot have said initialized yet.
        send({"jsonrpc": "2.0", "id": "early-1", "method": "roots/list"})
        result(id, {"protocolVersion": "2099-01-01",
                    "capabilities": {"tools": {}, "resources": {}, "prompts": {}},
                    "serverInfo": {"name": "lint-bad", "version": "0.1"}})
    elif method == "ping":
        result(id, {})
    elif method == "tools/list":
        page = PAGE_2 if params.get("cursor") == "p2" else PAGE_1
        result(id, {"tools": page, "nextCursor": "p2"})
    elif method == "tools/call":
        call_tool(id, params.get("name"))
    elif method == "resources/list" and params.get("cursor") == "r2":
        error(id, 0, "database is locked")
    elif method == "resources/list":
        result(id, {"nextCursor": "r2", "resources": [
            {"uri": "not a uri", "name": "broken"},
            {"uri": "file:///img.png", "name": "img", "mimeType": "image/png"},
            {"uri": "file:///notes.txt", "name": "notes", "mimeType": "text/plain"},
        ]})
    elif method == "resources/read":
        read(id, params.get("uri"))
    elif method == "resources/templates/list":
        result(id, {"resourceTemplates": [
            {"uriTemplate": "file:///{unclosed", "name": "broken"},
            {"uriTemplate": "file:///logs/{day}", "name": "logs"},
        ]})
    else:
        error(id, -32601, "Method not found")


for line in sys.stdin:
    if line.strip():
        try:
            handle(json.loads(line))
        except ValueError:
            pass
