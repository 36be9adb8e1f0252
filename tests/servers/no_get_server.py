"""A Streamable HTTP server with no GET stream that says so badly: every GET is answered with
the status given (404 as Express answers a route it lacks, 400, 503, ...), with a session id or
without. Its POSTs work: initialize, tools/list and ping. Standard library only.

Usage: no_get_server.py PORT STATUS [--session]
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, STATUS = int(sys.argv[1]), int(sys.argv[2])
SESSION = "--session" in sys.argv[3:]


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, body=None, session=False):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        if body is not None:
            self.send_header("content-type", "application/json")
        if session and SESSION:
            self.send_header("mcp-session-id", "no-get-1")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        msg = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
        method, req_id = msg.get("method"), msg.get("id")
        if req_id is None:
            return self.reply(202)
        if method == "initialize":
            result = {"protocolVersion": msg["params"]["protocolVersion"],
                      "capabilities": {"tools": {}}, "serverInfo": {"name": "no-get", "version": "1"}}
        elif method == "tools/list":
            result = {"tools": []}
        else:
            result = {}
        self.reply(200, {"jsonrpc": "2.0", "id": req_id, "result": result}, session=method == "initialize")

    def do_GET(self):
        self.reply(STATUS, {"error": f"Cannot GET {self.path}"})

    def do_DELETE(self):
        self.reply(200)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
