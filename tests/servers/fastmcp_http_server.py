"""A Python SDK (mcp 1.x) FastMCP server over HTTP, for mcpscope's remote-transport tests.

Usage: fastmcp_http_server.py streamable-http|sse PORT

It listens on 127.0.0.1 only. In streamable-http mode it keeps events in memory so a client can
resume a dropped stream with Last-Event-ID, and `drop_get_stream` closes the client's GET stream
and then sends a notification while it is gone, so only a resumed stream can deliver it.
"""

import asyncio
import sys
from itertools import count

from mcp.server.fastmcp import Context, FastMCP
from mcp.server.streamable_http import EventStore


class MemoryEventStore(EventStore):
    def __init__(self):
        self.events = []  # (event_id, stream_id, message)
        self.ids = count(1)

    async def store_event(self, stream_id, message):
        event_id = f"ev-{next(self.ids)}"
        self.events.append((event_id, stream_id, message))
        return event_id

    async def replay_events_after(self, last_event_id, send_callback):
        found = [i for i, e in enumerate(self.events) if e[0] == last_event_id]
        if not found:
            return None
        stream_id = self.events[found[0]][1]
        for event_id, sid, message in self.events[found[0] + 1:]:
            if sid == stream_id and message is not None:
                from mcp.server.streamable_http import EventMessage
                await send_callback(EventMessage(message, event_id))
        return stream_id


mode, port = sys.argv[1], int(sys.argv[2])
mcp = FastMCP(
    "HTTP demo",
    host="127.0.0.1",
    port=port,
    event_store=MemoryEventStore() if mode == "streamable-http" else None,
    retry_interval=200,
)


@mcp.tool()
def add(a: int, b: int) -> int:
    """Add two numbers"""
    return a + b


@mcp.tool()
def echo_header(name: str, ctx: Context) -> str:
    """The value of one HTTP header of the request that carried this call"""
    request = ctx.request_context.request
    return request.headers.get(name, "(absent)") if request is not None else "(no HTTP request)"


@mcp.tool()
async def count_to(n: int, ctx: Context) -> str:
    """Reports progress n times"""
    for i in range(1, n + 1):
        await ctx.report_progress(i, n, f"step {i}")
        await asyncio.sleep(0.05)
    return f"counted to {n}"


@mcp.tool()
async def drop_get_stream(ctx: Context) -> str:
    """Sends a notification on the client's GET stream (so it has an event id to resume from),
    closes that stream, then sends another notification while it is closed"""
    await ctx.session.send_resource_list_changed()
    await asyncio.sleep(0.1)
    await ctx.close_standalone_sse_stream()
    await asyncio.sleep(0.05)
    await ctx.session.send_tool_list_changed()
    return "dropped"


if __name__ == "__main__":
    mcp.run(mode)
