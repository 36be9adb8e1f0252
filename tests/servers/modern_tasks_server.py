"""A 2026-07-28 server with the tasks extension (io.modelcontextprotocol/tasks, SEP-2663), over stdio.

No SDK we can install ships the modern tasks extension yet, so this speaks it by hand, written from
the extension's specification (modelcontextprotocol/ext-tasks) and the conformance suite's server
fixtures: `server/discover` declares the extension; `tools/call` answers a flat CreateTaskResult
(`resultType: "task"`, `ttlMs`, `pollIntervalMs`); `tasks/get` answers the DetailedTask with
`resultType: "complete"`, the result or error inlined once terminal and the outstanding
`inputRequests` while input is required; `tasks/update` and `tasks/cancel` answer empty acks.
A request without the extension in its `_meta` client capabilities gets -32021.

Tools: `slow_compute {seconds}` (completes after that long), `confirm_delete {filename}` (asks one
yes/no question through inputRequests), `protocol_error_job` (fails with a JSON-RPC error).
"""

import json
import sys
import time
import uuid
from datetime import datetime, timezone

EXT = "io.modelcontextprotocol/tasks"
VERSION = "2026-07-28"
tasks = {}


def now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def send(msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def result(id_, res):
    send({"jsonrpc": "2.0", "id": id_, "result": res})


def error(id_, code, message, data=None):
    err = {"code": code, "message": message}
    if data is not None:
        err["data"] = data
    send({"jsonrpc": "2.0", "id": id_, "error": err})


def declares_tasks(params):
    caps = (params.get("_meta") or {}).get("io.modelcontextprotocol/clientCapabilities") or {}
    return EXT in (caps.get("extensions") or {})


def text(t):
    return {"content": [{"type": "text", "text": t}], "isError": False}


def advance(task):
    """Moves a task along by time, the way a background job would."""
    if task["status"] in ("completed", "failed", "cancelled"):
        return
    kind = task["kind"]
    if kind == "slow" and time.monotonic() >= task["due"]:
        task.update(status="completed", statusMessage="done", result=text(f"computed in {task['seconds']} s"))
    elif kind == "error" and time.monotonic() >= task["due"]:
        task.update(status="failed", statusMessage="the job broke", error={"code": -32603, "message": "the job broke"})
    task["lastUpdatedAt"] = now()


def public(task):
    out = {k: task[k] for k in ("taskId", "status", "createdAt", "lastUpdatedAt", "ttlMs", "pollIntervalMs")}
    if task.get("statusMessage"):
        out["statusMessage"] = task["statusMessage"]
    return out


def create(kind, **extra):
    task_id = uuid.uuid4().hex
    task = {"taskId": task_id, "status": "working", "createdAt": now(), "lastUpdatedAt": now(),
            "ttlMs": 60000, "pollIntervalMs": 200, "kind": kind, **extra}
    tasks[task_id] = task
    return task


TOOLS = [
    {"name": "slow_compute", "description": "Completes after the given seconds, as a task.",
     "inputSchema": {"type": "object", "properties": {"seconds": {"type": "number"}}, "required": ["seconds"]}},
    {"name": "confirm_delete", "description": "Asks for confirmation through the task, then answers.",
     "inputSchema": {"type": "object", "properties": {"filename": {"type": "string"}}, "required": ["filename"]}},
    {"name": "protocol_error_job", "description": "A task that fails with a JSON-RPC error.",
     "inputSchema": {"type": "object", "properties": {}}},
]


def handle(msg):
    method = msg.get("method")
    id_ = msg.get("id")
    params = msg.get("params") or {}
    if id_ is None:
        return
    meta = {"io.modelcontextprotocol/serverInfo": {"name": "modern-tasks", "version": "1.0.0"}}
    if method == "server/discover":
        return result(id_, {"resultType": "complete", "supportedVersions": [VERSION],
                            "capabilities": {"tools": {}, "extensions": {EXT: {}}},
                            "ttlMs": 0, "cacheScope": "private", "_meta": meta})
    if method == "tools/list":
        return result(id_, {"resultType": "complete", "tools": TOOLS, "ttlMs": 0, "cacheScope": "private"})
    if method in ("tools/call", "tasks/get", "tasks/update", "tasks/cancel") and not declares_tasks(params):
        return error(id_, -32021, "Missing required client capability",
                     {"requiredCapabilities": {"extensions": {EXT: {}}}})
    if method == "tools/call":
        name = params.get("name")
        args = params.get("arguments") or {}
        if name == "slow_compute":
            seconds = float(args.get("seconds", 1))
            task = create("slow", seconds=seconds, due=time.monotonic() + seconds)
        elif name == "confirm_delete":
            task = create("confirm", filename=args.get("filename", "?"))
            task.update(status="input_required", statusMessage="waiting for confirmation",
                        inputRequests={"confirm-1": {"method": "elicitation/create", "params": {
                            "mode": "form", "message": f"Delete {task['filename']}?",
                            "requestedSchema": {"type": "object", "properties": {"confirm": {"type": "boolean"}},
                                                "required": ["confirm"]}}}})
        elif name == "protocol_error_job":
            task = create("error", due=time.monotonic() + 0.3)
        else:
            return error(id_, -32602, f"Unknown tool: {name}")
        return result(id_, {"resultType": "task", **public(task)})
    if method in ("tasks/get", "tasks/update", "tasks/cancel"):
        task = tasks.get(params.get("taskId"))
        if task is None:
            return error(id_, -32602, "Task not found")
        if method == "tasks/get":
            advance(task)
            out = {"resultType": "complete", **public(task)}
            if task["status"] == "input_required":
                out["inputRequests"] = task["inputRequests"]
            if task["status"] == "completed":
                out["result"] = task["result"]
            if task["status"] == "failed":
                out["error"] = task["error"]
            return result(id_, out)
        if method == "tasks/update":
            answer = (params.get("inputResponses") or {}).get("confirm-1")
            if task["status"] == "input_required" and answer is not None:
                yes = answer.get("action") == "accept" and (answer.get("content") or {}).get("confirm") is True
                verdict = "deleted" if yes else "kept"
                task.update(status="completed", statusMessage=None, result=text(f"{verdict} {task['filename']}"),
                            lastUpdatedAt=now())
                task.pop("inputRequests", None)
            return result(id_, {"resultType": "complete"})
        if task["status"] not in ("completed", "failed", "cancelled"):
            task.update(status="cancelled", statusMessage="cancelled by the client", lastUpdatedAt=now())
        return result(id_, {"resultType": "complete"})
    error(id_, -32601, f"Method not found: {method}")


for line in sys.stdin:
    line = line.strip()
    if line:
        handle(json.loads(line))
