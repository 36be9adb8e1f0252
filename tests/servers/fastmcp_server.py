"""A Python SDK (mcp 1.x) server written the way the SDK's README writes them: FastMCP with a
tool, a resource template, a prompt, and a tool that asks the client for an LLM completion
(sampling). mcpscope's integration tests drive it over stdio."""

from mcp.server.fastmcp import Context, FastMCP
from mcp.types import SamplingMessage, TextContent

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


if __name__ == "__main__":
    mcp.run("stdio")
