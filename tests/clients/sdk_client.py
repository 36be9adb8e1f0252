"""A real MCP client (the Python SDK's ClientSession, 1.x or 2.x), for the tap, proxy and mock
tests: it connects the way an application would, runs a fixed script of calls, and prints what
it got as one JSON object on stdout, so a test can compare a direct run with one through
mcpscope.

    python sdk_client.py stdio COMMAND [ARGS...]
    python sdk_client.py http URL
    python sdk_client.py sse URL

Environment: SDK_DEFAULT_ENV=1 starts a stdio server with the SDK's default environment only. CALLS, a JSON list of [method, params] to run after the handshake (default: list
tools, call echo, list resources, read the first, list prompts). ROUNDS repeats the calls (for a
latency figure: each call's time is printed in ms under "timesMs").
"""

import asyncio
import json
import os
import sys
import time
from contextlib import asynccontextmanager

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

DEFAULT = [
    ["tools/list", {}],
    ["tools/call", {"name": "echo", "arguments": {"message": "through the tap"}}],
    ["resources/list", {}],
    ["resources/read", {"uri": "first"}],
    ["prompts/list", {}],
]


@asynccontextmanager
async def transport(kind, rest):
    if kind == "stdio":
        # SDK_DEFAULT_ENV=1: the server gets only what the SDK passes by default (HOME, PATH,
        # USER, …), as in a real client's config without "env".
        env = None if os.environ.get("SDK_DEFAULT_ENV") else dict(os.environ)
        params = StdioServerParameters(command=rest[0], args=rest[1:], env=env)
        async with stdio_client(params) as (read, write):
            yield read, write
    elif kind == "http":
        import mcp.client.streamable_http as h

        connect = getattr(h, "streamable_http_client", None) or h.streamablehttp_client
        async with connect(rest[0]) as streams:
            yield streams[0], streams[1]
    else:
        from mcp.client.sse import sse_client

        async with sse_client(rest[0]) as (read, write):
            yield read, write


def dump(value):
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    return value


async def call(session, method, params, state):
    if method == "tools/list":
        return await session.list_tools()
    if method == "tools/call":
        return await session.call_tool(params["name"], params.get("arguments") or {})
    if method == "resources/list":
        listed = await session.list_resources()
        state["resources"] = [str(r.uri) for r in listed.resources]
        return listed
    if method == "resources/read":
        uri = params["uri"]
        if uri == "first":
            uri = state["resources"][0]
        return await session.read_resource(uri)
    if method == "prompts/list":
        return await session.list_prompts()
    if method == "ping":
        return await session.send_ping()
    if method == "sleep":  # a client thinking between calls
        await asyncio.sleep(params.get("s", 1))
        return {}
    raise SystemExit(f"unknown method {method}")


async def main():
    kind, rest = sys.argv[1], sys.argv[2:]
    calls = json.loads(os.environ.get("CALLS") or "null") or DEFAULT
    rounds = int(os.environ.get("ROUNDS") or "1")
    out = {"results": [], "errors": [], "timesMs": []}
    async with transport(kind, rest) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            info = getattr(init, "serverInfo", None) or getattr(init, "server_info", None)
            out["serverInfo"] = dump(info)
            state = {}
            for _ in range(rounds):
                for method, params in calls:
                    started = time.perf_counter()
                    try:
                        result = await call(session, method, params, state)
                        if rounds == 1:
                            out["results"].append([method, dump(result)])
                    except Exception as e:  # an MCP error answer: the test reads its words
                        out["errors"].append([method, str(e)])
                    out["timesMs"].append((time.perf_counter() - started) * 1000)
    print(json.dumps(out))


asyncio.run(main())
