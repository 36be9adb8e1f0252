"""An MCP server over stdio that asks its client to run a sampling request as a task
(2025-11-25), then lists, cancels and reads that task, and cancels it again: what no peer we
have does (server-everything only polls). Standard library only; newline-delimited JSON-RPC.

Its one tool, `cancel_a_task`, answers with every reply the client gave, as JSON text:
{"created", "list", "cancel", "get", "cancelAgain"}.
"""

import json
import sys
import threading

lock = threading.Lock()
replies = {}
arrived = threading.Condition()


def send(message):
    with lock:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()


def ask(id, method, params):
    send({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
    with arrived:
        arrived.wait_for(lambda: id in replies, timeout=30)
        return replies.pop(id, {"error": "no reply within 30 s"})


def run(call_id):
    created = ask("t1", "sampling/createMessage", {
        "messages": [{"role": "user", "content": {"type": "text", "text": "never answered"}}],
        "maxTokens": 5,
        "task": {"ttl": 60000},
    })
    task_id = created.get("result", {}).get("task", {}).get("taskId", "")
    out = {"created": created}
    out["list"] = ask("t2", "tasks/list", {})
    out["cancel"] = ask("t3", "tasks/cancel", {"taskId": task_id})
    out["get"] = ask("t4", "tasks/get", {"taskId": task_id})
    out["cancelAgain"] = ask("t5", "tasks/cancel", {"taskId": task_id})
    send({"jsonrpc": "2.0", "id": call_id,
          "result": {"content": [{"type": "text", "text": json.dumps(out)}]}})


def handle(msg):
    method, id = msg.get("method"), msg.get("id")
    if method is None:
        with arrived:
            replies[id] = msg
            arrived.notify_all()
        return
    if id is None:
        return
    if method == "initialize":
        send({"jsonrpc": "2.0", "id": id, "result": {
            "protocolVersion": "2025-11-25",
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "task-requestor", "version": "0.1"}}})
    elif method == "tools/list":
        send({"jsonrpc": "2.0", "id": id, "result": {"tools": [
            {"name": "cancel_a_task", "inputSchema": {"type": "object"}}]}})
    elif method == "tools/call":
        threading.Thread(target=run, args=(id,), daemon=True).start()
    elif method == "ping":
        send({"jsonrpc": "2.0", "id": id, "result": {}})
    else:
        send({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "Method not found"}})


for line in sys.stdin:
    if line.strip():
        try:
            handle(json.loads(line))
        except ValueError:
            pass
