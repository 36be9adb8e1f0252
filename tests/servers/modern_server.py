"""A Python SDK 2.x (`mcp.server.mcpserver.MCPServer`) server, for mcpscope's protocol-era tests.

Usage: modern_server.py stdio | modern_server.py http PORT

The SDK speaks both eras from the same code: a client that probes `server/discover` gets the
2026-07-28 era, one that sends `initialize` gets 2025-11-25. `book_table` needs one answer from
the user (an MRTR `input_required` round in the modern era, an `elicitation/create` request in
the legacy era); `plan_trip` needs two, the second asked only after the first came back, so it
takes two rounds. `chatty` logs at debug and at info. `grow` adds a tool and `touch_memo` changes
`memo://greeting`; in the modern era both reach `subscriptions/listen` streams only. HTTP listens
on 127.0.0.1 only.
"""

import sys
from typing import Annotated

from pydantic import BaseModel

from mcp.server.mcpserver import Context, Elicit, MCPServer, Resolve

mcp = MCPServer("modern-peer", instructions="A test peer for both protocol eras.")


class Seating(BaseModel):
    outdoor: bool
    guests: int = 2


class Destination(BaseModel):
    city: str


class Nights(BaseModel):
    nights: int


def ask_seating() -> Elicit[Seating]:
    return Elicit("Where would you like to sit?", Seating)


def ask_city() -> Elicit[Destination]:
    return Elicit("Where to?", Destination)


def ask_nights(destination: Annotated[Destination, Resolve(ask_city)]) -> Elicit[Nights]:
    return Elicit(f"How many nights in {destination.city}?", Nights)


@mcp.tool()
def add(a: int, b: int) -> str:
    """Adds two integers."""
    return str(a + b)


@mcp.tool()
def book_table(day: str, seating: Annotated[Seating, Resolve(ask_seating)]) -> str:
    """Books a table, asking where to sit."""
    place = "outside" if seating.outdoor else "inside"
    return f"booked {day} for {seating.guests}, {place}"


@mcp.tool()
def plan_trip(
    destination: Annotated[Destination, Resolve(ask_city)],
    nights: Annotated[Nights, Resolve(ask_nights)],
) -> str:
    """Plans a trip in two questions."""
    return f"{nights.nights} nights in {destination.city}"


@mcp.tool()
async def chatty(ctx: Context) -> str:
    """Logs once at debug and once at info."""
    await ctx.debug("debug detail")
    await ctx.info("info line")
    return "done"


memo = {"text": "hello", "grown": 0}


@mcp.tool()
async def grow(ctx: Context) -> str:
    """Adds a tool named extra_N and says the tool list changed."""
    memo["grown"] += 1
    name = f"extra_{memo['grown']}"
    mcp.add_tool(lambda: name, name=name, description="Added by grow.")
    await ctx.notify_tools_changed()
    return name


@mcp.tool()
async def touch_memo(text: str, ctx: Context) -> str:
    """Changes memo://greeting and says so to its subscribers."""
    memo["text"] = text
    await ctx.notify_resource_updated("memo://greeting")
    return "updated"


@mcp.resource("memo://greeting")
def greeting() -> str:
    return memo["text"]


if __name__ == "__main__":
    if sys.argv[1] == "stdio":
        mcp.run("stdio")
    else:
        mcp.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
