"""A fake LLM provider for the tests (standard library only), on 127.0.0.1: the OpenAI chat
completions API (`POST /v1/chat/completions`, bearer key) and the Anthropic Messages API
(`POST /v1/messages`, `x-api-key` and `anthropic-version`), answering in each API's documented
shape. Scripted: a JSON file of answers, taken in order (each `{"status", "headers"?, "body"?}`;
a body of `null` means the default answer); once they run out, the default answer is a text that
echoes the last user text. Every request it gets is appended to a log file as one JSON line
(`path`, `headers`, `body`), for the tests to check what a provider would see.

Usage: fake_llm.py PORT SCRIPT.json LOG.ndjson
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, SCRIPT, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(SCRIPT) as f:
    QUEUE = json.load(f)


def last_user_text(body, anthropic):
    for m in reversed(body.get("messages", [])):
        if m.get("role") != "user":
            continue
        content = m.get("content")
        if isinstance(content, str):
            return content
        for part in content or []:
            if part.get("type") == "text":
                return part.get("text", "")
    return ""


def default_answer(body, anthropic):
    text = "echo: " + last_user_text(body, anthropic)
    if anthropic:
        return {
            "id": "msg_fake", "type": "message", "role": "assistant", "model": body.get("model"),
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
            "stop_sequence": None, "usage": {"input_tokens": 11, "output_tokens": 3},
        }
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": body.get("model"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14},
    }


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        with open(LOG, "a") as f:
            f.write(json.dumps({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                "body": body}) + "\n")
        anthropic = self.path == "/v1/messages"
        if self.path not in ("/v1/messages", "/v1/chat/completions"):
            return self.send(404, {}, {"error": {"message": "no such route"}})
        if anthropic and (not self.headers.get("x-api-key") or not self.headers.get("anthropic-version")):
            return self.send(401, {}, {"type": "error", "error": {"type": "authentication_error", "message": "missing key"}})
        if not anthropic and not (self.headers.get("authorization") or "").startswith("Bearer "):
            return self.send(401, {}, {"error": {"message": "missing key", "type": "invalid_request_error"}})
        step = QUEUE.pop(0) if QUEUE else {"status": 200, "body": None}
        answer = step.get("body")
        if answer is None and step.get("status", 200) == 200:
            answer = default_answer(body, anthropic)
        self.send(step.get("status", 200), step.get("headers", {}), answer if answer is not None else {})

    def send(self, status, headers, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
