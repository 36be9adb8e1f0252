"""The Python SDK's quickstart server, as `mcp dev server.py --with humanize` would run it: a
FastMCP server in a file with no `__main__` block (`mcp run` finds the `mcp` object), importing a
package that only `--with` provides. mcpscope's `dev` tests run it through uv."""

import humanize

from mcp.server.fastmcp import FastMCP

mcp = FastMCP("Quickstart")


@mcp.tool()
def add(a: int, b: int) -> int:
    """Add two numbers"""
    return a + b


@mcp.tool()
def size(n: int) -> str:
    """A byte count for people (uses humanize, which the server imports)"""
    return humanize.naturalsize(n)
