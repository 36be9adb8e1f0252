"""A fake LLM provider for the tests (standard library only), on 127.0.0.1: the OpenAI chat
completions API (`POST /v1/chat/completions`, bearer key) and the Anthropic Messages API
(`POST /v1/messages`, `x-api-key` and `anthropic-version`), answering in each API's documented
shape. Scripted: a JSON file of answers, taken in order (each `{"status", "headers"?, "body"?}`;
a body of `null` means the default answer); once they run out, the default answer is a text that
echoes the last user text. A request with `"stream": true` gets the same answer as server-sent
events, in pieces, the way each API streams (OpenAI `chat.completion.chunk`s ending `data:
[DONE]`; Anthropic's named events). Every request it gets is appended to a log file as one JSON
line (`path`, `headers`, `body`), for the tests to check what a provider would see.

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


def pieces(text, n=3):
    size = max(1, len(text) // n + 1)
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def openai_events(answer):
    choice = answer["choices"][0]
    message = choice["message"]
    base = {"id": answer.get("id", "chatcmpl-fake"), "object": "chat.completion.chunk", "model": answer.get("model")}
    out = [("", {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})]
    for piece in pieces(message.get("content") or "") if message.get("content") else []:
        out.append(("", {**base, "choices": [{"index": 0, "delta": {"content": piece}}]}))
    for i, call in enumerate(message.get("tool_calls") or []):
        args = call["function"]["arguments"]
        out.append(("", {**base, "choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": i, "id": call["id"], "type": "function", "function": {"name": call["function"]["name"], "arguments": ""}}]}}]}))
        for piece in pieces(args, 2):
            out.append(("", {**base, "choices": [{"index": 0, "delta": {"tool_calls": [
                {"index": i, "function": {"arguments": piece}}]}}]}))
    out.append(("", {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": choice.get("finish_reason")}]}))
    if answer.get("usage"):
        out.append(("", {**base, "choices": [], "usage": answer["usage"]}))
    out.append(("", "[DONE]"))
    return out


def anthropic_events(answer):
    usage = answer.get("usage", {})
    out = [("message_start", {"type": "message_start", "message": {"id": answer.get("id"), "type": "message",
            "role": "assistant", "model": answer.get("model"), "content": [], "stop_reason": None,
            "usage": {"input_tokens": usage.get("input_tokens", 0), "output_tokens": 1}}})]
    for i, block in enumerate(answer.get("content", [])):
        if block["type"] == "text":
            out.append(("content_block_start", {"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}}))
            for piece in pieces(block["text"]):
                out.append(("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "text_delta", "text": piece}}))
        else:
            out.append(("content_block_start", {"type": "content_block_start", "index": i, "content_block": {
                "type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}}))
            for piece in pieces(json.dumps(block.get("input", {})), 2):
                out.append(("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "input_json_delta", "partial_json": piece}}))
        out.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
    out.append(("message_delta", {"type": "message_delta", "delta": {"stop_reason": answer.get("stop_reason"), "stop_sequence": None},
                                  "usage": {"output_tokens": usage.get("output_tokens", 0)}}))
    out.append(("message_stop", {"type": "message_stop"}))
    return out


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
        if body.get("stream") and step.get("status", 200) == 200:
            return self.stream(anthropic, answer)
        self.send(step.get("status", 200), step.get("headers", {}), answer if answer is not None else {})

    def stream(self, anthropic, answer):
        events = anthropic_events(answer) if anthropic else openai_events(answer)
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.end_headers()
        for name, data in events:
            chunk = (f"event: {name}\n" if name else "") + "data: " + (data if isinstance(data, str) else json.dumps(data)) + "\n\n"
            self.wfile.write(chunk.encode())
            self.wfile.flush()

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
