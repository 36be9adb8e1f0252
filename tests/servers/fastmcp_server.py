"""A Python SDK (mcp 1.x) server written the way the SDK's README writes them: FastMCP with a
tool, a resource template, a prompt, a tool that asks the client for an LLM completion
(sampling), and one that offers the client's LLM a tool while sampling (2025-11-25).
mcpscope's integration tests drive it over stdio."""

import json

from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from mcp.server.fastmcp import Context, FastMCP
from mcp.types import Completion, PromptReference, SamplingMessage, TextContent, Tool, ToolChoice

CITIES = ["Berlin", "Bern", "Bogota", "Boston", "Brasilia", "Bratislava", "Brisbane",
          "Brussels", "Bucharest", "Budapest", "Cairo", "Canberra"]

mcp = FastMCP("Demo")


@mcp.tool()
def add(a: int, b: int) -> int:
    """Add two numbers"""
    return a + b


@mcp.tool()
async def summarize(text: str, ctx: Context) -> str:
    """Summarize text with the client's LLM"""
    result = await ctx.session.create_message(
        messages=[
            SamplingMessage(
                role="user",
                content=TextContent(type="text", text=f"Summarize this: {text}"),
            )
        ],
        max_tokens=100,
    )
    if result.content.type == "text":
        return f"{result.model}: {result.content.text}"
    return str(result.content)


@mcp.tool()
def typed(
    count: StrictInt, ratio: StrictFloat, loud: StrictBool, tags: list[StrictStr], label: StrictStr
) -> str:
    """Echo arguments that must arrive with exactly their JSON types (strict: no "5" for 5)"""
    return f"count={count!r} ratio={ratio!r} loud={loud!r} tags={tags!r} label={label!r}"


class Line(BaseModel):
    sku: str
    qty: Annotated[int, Field(ge=1)]


@mcp.tool()
def order(lines: list[Line], note: Annotated[str, Field(min_length=3)] = "none") -> str:
    """Order some items (each line's qty at least 1, a note of 3 characters or more)"""
    return f"ordered {sum(line.qty for line in lines)} item(s): {note}"


@mcp.resource("greeting://{name}")
def get_greeting(name: str) -> str:
    """Get a personalized greeting"""
    return f"Hello, {name}!"


@mcp.prompt()
def greet_user(name: str, style: str = "friendly") -> str:
    """Generate a greeting prompt"""
    styles = {
        "friendly": "Please write a warm, friendly greeting",
        "formal": "Please write a formal, professional greeting",
    }
    return f"{styles.get(style, styles['friendly'])} for someone named {name}."


@mcp.prompt()
def pick_city(city: str) -> str:
    """Plan a trip to a city"""
    return f"Plan three days in {city}."


@mcp.completion()
async def complete(ref, argument, context):
    # Three suggestions at a time, with the total and whether more exist, as a paging server does.
    if isinstance(ref, PromptReference) and ref.name == "pick_city" and argument.name == "city":
        matches = [c for c in CITIES if c.lower().startswith(argument.value.lower())]
        return Completion(values=matches[:3], total=len(matches), hasMore=len(matches) > 3)
    return None




@mcp.tool()
async def forecast(city: str, ctx: Context) -> str:
    """Ask the client's LLM for the weather, offering it a weather tool it must call"""
    result = await ctx.session.create_message(
        messages=[SamplingMessage(role="user", content=TextContent(type="text", text=f"What is the weather in {city}?"))],
        max_tokens=100,
        tools=[Tool(name="weather", description="Current weather for a city",
                    inputSchema={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})],
        tool_choice=ToolChoice(mode="required"),
    )
    content = result.content if isinstance(result.content, list) else [result.content]
    calls = [c for c in content if getattr(c, "type", None) == "tool_use"]
    if calls:
        return f"{result.model} called {calls[0].name} with {json.dumps(calls[0].input)} ({result.stopReason})"
    return f"{result.model} answered without a tool"


if __name__ == "__main__":
    mcp.run("stdio")
