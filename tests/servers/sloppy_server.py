"""A deliberately sloppy stdio MCP server (standard library only). Each tool misbehaves in one
way a real server might, so tests can check that mcpscope reports it instead of breaking:
junk and invalid UTF-8 on stdout, stray and duplicate responses, progress for a token never
issued, pinging the client with an id that collides with the client's own, answering out of
order, hanging, and crashing mid-call. With SLOPPY_SLOW_PROMPTS=SECONDS it also has prompts, and lists
them only after that long (its tools list at once)."""

import json
import os
import signal
import sys
import threading
import time

out = sys.stdout.buffer
lock = threading.Lock()  # a late prompts/list answer is written from a timer's thread
SLOW_PROMPTS = float(os.environ.get("SLOPPY_SLOW_PROMPTS", "0"))


def send(obj):
    raw(json.dumps(obj).encode())


def raw(data: bytes):
    with lock:
        out.write(data + b"\n")
        out.flush()


def text_result(req_id, text):
    send({"jsonrpc": "2.0", "id": req_id, "result": {"content": [{"type": "text", "text": text}]}})


TOOLS = ["junk", "stray", "ping_client", "hang", "crash", "slow", "fast", "big", "huge", "stubborn", "relist"]
held = []  # (id, text): answers to `slow` calls, sent after the next `fast` one

raw(b"sloppy server starting (this line should have gone to stderr)")

for line in sys.stdin.buffer:
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    method, req_id = msg.get("method"), msg.get("id")
    if method is None or req_id is None:
        continue
    if method == "initialize":
        # A notification before the initialize answer, as real servers send.
        send({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
        send({"jsonrpc": "2.0", "id": req_id, "result": {
            "protocolVersion": msg["params"]["protocolVersion"],
            "capabilities": {"tools": {}, **({"prompts": {}} if SLOW_PROMPTS else {})},
            "serverInfo": {"name": "sloppy", "version": ""},
        }})
    elif method == "tools/list":
        send({"jsonrpc": "2.0", "id": req_id, "result": {"tools": [
            {"name": n, "inputSchema": {"type": "object"}} for n in TOOLS]}})
    elif method == "prompts/list":
        late = {"jsonrpc": "2.0", "id": req_id, "result": {"prompts": [{"name": "late"}]}}
        threading.Timer(SLOW_PROMPTS, send, args=(late,)).start()
    elif method == "tools/call":
        name = msg["params"]["name"]
        if name == "junk":
            raw(b"DEBUG: this is not JSON")
            raw(b'{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"caf\xe9"}}')
            text_result(req_id, "junk sent")
        elif name == "stray":
            send({"jsonrpc": "2.0", "id": 987654, "result": {}})
            send({"jsonrpc": "2.0", "method": "notifications/progress",
                  "params": {"progressToken": "never-issued", "progress": 1}})
            text_result(req_id, "stray sent")
            text_result(req_id, "duplicate")
        elif name == "ping_client":
            # Id 1 collides with mcpscope's own first request id on purpose.
            send({"jsonrpc": "2.0", "id": 1, "method": "ping"})
            answer = json.loads(sys.stdin.buffer.readline())
            send({"jsonrpc": "2.0", "id": 2, "method": "sampling/createMessage", "params": {}})
            refusal = json.loads(sys.stdin.buffer.readline())
            send({"jsonrpc": "2.0", "id": "x", "method": "sloppy/made-up", "params": {}})
            unknown = json.loads(sys.stdin.buffer.readline())
            text_result(req_id, json.dumps({"ping": answer, "sampling": refusal, "unknown": unknown}))
        elif name == "relist":
            # The tool list changed, says the server (it did not, which a client cannot know).
            send({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
            text_result(req_id, "relisted")
        elif name == "hang":
            pass
        elif name == "crash":
            sys.stderr.write("sloppy: crashing now\n")
            sys.stderr.flush()
            sys.exit(3)
        elif name == "big":
            size = msg["params"]["arguments"]["mb"] * 1024 * 1024
            text_result(req_id, "x" * size)
        elif name == "huge":
            # Written a MiB at a time, so this server holds none of it: past the frame limit.
            out.write(b'{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"' % json.dumps(req_id).encode())
            block = b"x" * (1 << 20)
            for _ in range(msg["params"]["arguments"]["mb"]):
                out.write(block)
            out.write(b'"}]}}\n')
            out.flush()
        elif name == "stubborn":
            # Ignores SIGTERM and stdin EOF alike: only SIGKILL ends it.
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            sys.stderr.write("sloppy: ignoring SIGTERM now\n")
            sys.stderr.flush()
            while True:
                time.sleep(60)
        elif name == "slow":
            held.append(req_id)
        elif name == "fast":
            text_result(req_id, "fast")
            for slow_id in held:
                text_result(slow_id, "slow")
            held.clear()
    elif method == "ping":
        send({"jsonrpc": "2.0", "id": req_id, "result": {}})
    else:
        send({"jsonrpc": "2.0", "id": req_id, "error": {"code": -32601, "message": "no"}})
