#!/usr/bin/env python3
"""The client under test for the official MCP conformance suite (client mode): mcpscope, driven
through its public HTTP API exactly as a script or the UI drives it.

The suite runs `client.py <server URL>` once per scenario with MCP_CONFORMANCE_SCENARIO,
MCP_CONFORMANCE_PROTOCOL_VERSION and (for some scenarios) MCP_CONFORMANCE_CONTEXT set. This
starts the mcpscope binary named by MCPSCOPE_BIN on a free loopback port, sets mock responders
(accept every elicitation, so mcpscope fills in the schema's defaults), connects a session in the
era MCPSCOPE_ERA (default `auto`), then does what a person checking a server would do: list the
tools and call every tool mcpscope does not exclude, read every resource, get every prompt. It
decides nothing about the protocol itself: every frame is mcpscope's.
"""

import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request


def main() -> int:
    server_url = sys.argv[-1]
    scenario = os.environ.get("MCP_CONFORMANCE_SCENARIO", "")
    context = json.loads(os.environ.get("MCP_CONFORMANCE_CONTEXT") or "{}")
    token = secrets.token_hex(16)
    # A catalog of its own, never the user's.
    catalog = os.path.join(tempfile.mkdtemp(prefix="mcpscope-conformance-"), "catalog.json")
    proc = subprocess.Popen(
        [os.environ["MCPSCOPE_BIN"], "--no-open", "--port", "0", "--token", token,
         "--catalog", catalog],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        ready = proc.stdout.readline().strip()
        base = ready.split("ready: ", 1)[1].split("/?", 1)[0]
        return run(Api(base, token), server_url, scenario, context)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class Api:
    def __init__(self, base: str, token: str):
        self.base = base
        self.token = token

    def call(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as res:
                text = res.read()
                return res.status, json.loads(text) if text else None
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def request(self, sid: str, method: str, params=None):
        status, answer = self.call(
            "POST", f"/api/sessions/{sid}/request", {"method": method, "params": params or {}}
        )
        log(f"{method} {json.dumps(params or {})[:200]} -> {status} {json.dumps(answer)[:300]}")
        return answer if status == 200 else None


def log(line: str) -> None:
    print(f"[mcpscope adapter] {line}", file=sys.stderr)


def run(api: Api, server_url: str, scenario: str, context: dict) -> int:
    api.call(
        "PUT",
        "/api/responders",
        {
            "elicitation": {"mode": "mock", "default": {"action": "accept"}},
            "sampling": {
                "mode": "mock",
                "default": {
                    "role": "assistant",
                    "content": {"type": "text", "text": "ok"},
                    "model": "mcpscope-mock",
                    "stopReason": "endTurn",
                },
            },
        },
    )
    era = os.environ.get("MCPSCOPE_ERA", "auto")
    body = {"transport": "http", "url": server_url, "era": era}
    oauth = oauth_options(context)
    if oauth:
        body["oauth"] = oauth
    status, session = api.call("POST", "/api/sessions", body)
    log(f"connect ({era}) -> {status} {json.dumps(session)[:400]}")
    sid = session.get("id")
    browser = Browser(api, sid)
    browser.start()
    session = browser.until_settled(session)
    if session.get("state") != "connected":
        log(f"not connected: {json.dumps(session)[:600]}")
        browser.stop()
        return 1
    caps = session.get("capabilities") or {}
    if scenario == "initialize":
        return 0

    tools = all_pages(api, sid, "tools/list", "tools")
    status, session = api.call("GET", f"/api/sessions/{sid}")
    excluded = {t["name"] for t in session.get("excludedTools", [])}
    planned = context.get("toolCalls")
    if planned is None:
        planned = [
            {"name": t["name"], "arguments": arguments_for(t.get("inputSchema") or {})}
            for t in tools
            if t.get("name") not in excluded
        ]
    for call in planned:
        if call["name"] in excluded:
            log(f"skipping excluded tool {call['name']}")
            continue
        api.request(sid, "tools/call", {"name": call["name"], "arguments": call.get("arguments", {})})

    if "resources" in caps:
        for resource in all_pages(api, sid, "resources/list", "resources"):
            api.request(sid, "resources/read", {"uri": resource["uri"]})
    if "prompts" in caps:
        for prompt in all_pages(api, sid, "prompts/list", "prompts"):
            args = {a["name"]: "x" for a in prompt.get("arguments", []) if a.get("required")}
            api.request(sid, "prompts/get", {"name": prompt["name"], "arguments": args})
    browser.stop()
    api.call("DELETE", f"/api/sessions/{sid}")
    return 0


def oauth_options(context: dict) -> dict:
    """What a user would type into the connect form's OAuth fields for this scenario."""
    # Where this client's metadata document is published, as the suite's own example clients
    # say theirs is: used only where an authorization server accepts Client ID Metadata
    # Documents (mcpscope registers dynamically otherwise).
    out = {"clientMetadataUrl": "https://conformance-test.local/client-metadata.json"}
    if context.get("client_id"):
        out["clientId"] = context["client_id"]
    if context.get("client_secret"):
        out["clientSecret"] = context["client_secret"]
    return out


class Browser(threading.Thread):
    """The user's browser: whenever the session waits in `authorizing` with a URL it has not
    opened yet, open it and follow the redirects (to mcpscope's own /oauth/callback), as a
    person clicking the authorization link would. It decides nothing: what to open comes from
    the session object, and where the redirects go is the authorization server's answer."""

    def __init__(self, api: Api, sid: str):
        super().__init__(daemon=True)
        self.api = api
        self.sid = sid
        self.opened = set()
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            _, session = self.api.call("GET", f"/api/sessions/{self.sid}")
            self.visit(session or {})
            self.done.wait(0.05)

    def visit(self, session: dict):
        auth = session.get("authorization") or {}
        url = auth.get("url")
        if session.get("state") != "authorizing" or not url or url in self.opened:
            return
        self.opened.add(url)
        log(f"browser opens {url}")
        try:
            with urllib.request.urlopen(url, timeout=30) as res:
                log(f"browser landed on {res.geturl()} -> {res.status}")
        except urllib.error.HTTPError as e:
            log(f"browser landed on {e.geturl()} -> {e.code} {e.read()[:300]!r}")
        except Exception as e:  # noqa: BLE001 - a refused page is an outcome, not a crash
            log(f"browser could not open it: {e}")

    def until_settled(self, session: dict, deadline_s: float = 60) -> dict:
        end = time.monotonic() + deadline_s
        while session.get("state") in ("authorizing", "connecting") and time.monotonic() < end:
            time.sleep(0.05)
            _, session = self.api.call("GET", f"/api/sessions/{self.sid}")
        return session

    def stop(self):
        self.done.set()


def all_pages(api: Api, sid: str, method: str, key: str) -> list:
    items, cursor = [], None
    for _ in range(50):
        answer = api.request(sid, method, {"cursor": cursor} if cursor else {})
        result = (answer or {}).get("result") or {}
        items.extend(result.get(key, []))
        cursor = result.get("nextCursor")
        if not cursor:
            break
    return items


def arguments_for(schema: dict) -> dict:
    """A plain value for every primitive property, as a person filling the form quickly would."""
    sample = {"number": 2, "integer": 3, "string": "x", "boolean": True}
    out = {}
    for name, prop in (schema.get("properties") or {}).items():
        kind = prop.get("type") if isinstance(prop, dict) else None
        if isinstance(kind, str) and kind in sample:
            out[name] = sample[kind]
    return out


if __name__ == "__main__":
    sys.exit(main())
