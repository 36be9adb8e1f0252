"""A server that refuses every `initialize` with a JSON-RPC error (-32022, unsupported protocol
version, as modern-era servers answer a version they do not speak). Standard library only.

Usage: refusing_server.py stdio          answers on stdout, then exits 0 at EOF like a polite server
       refusing_server.py http PORT      answers a POST with 400 and the JSON-RPC error as its body,
                                         and refuses GET with 405 (so a fallback to HTTP+SSE fails)
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


def refusal(req_id):
    return {
        "jsonrpc": "2.0",
        "id": req_id,
        "error": {
            "code": -32022,
            "message": "Unsupported protocol version",
            "data": {"supported": ["2026-07-28"], "requested": "2025-11-25"},
        },
    }


def stdio():
    for line in sys.stdin:
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("method") == "initialize":
            sys.stdout.write(json.dumps(refusal(msg.get("id"))) + "\n")
            sys.stdout.flush()
    # EOF: the client went away; a clean exit, status 0.


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        msg = json.loads(self.rfile.read(length) or b"{}")
        body = json.dumps(refusal(msg.get("id"))).encode()
        self.send_response(400)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.send_response(405)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


if sys.argv[1] == "stdio":
    stdio()
else:
    HTTPServer(("127.0.0.1", int(sys.argv[2])), Handler).serve_forever()
