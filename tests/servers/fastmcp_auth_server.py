"""A Python SDK (mcp 1.x) FastMCP server over Streamable HTTP that requires a bearer token, as an
OAuth-protected resource server does: without one every request gets 401 with a
`WWW-Authenticate` challenge pointing at its protected-resource metadata.

Usage: fastmcp_auth_server.py PORT TOKEN

Only TOKEN is accepted (no authorization server runs; the tests send the token themselves).
It listens on 127.0.0.1 only.
"""

import sys

from mcp.server.auth.provider import AccessToken, TokenVerifier
from mcp.server.auth.settings import AuthSettings
from mcp.server.fastmcp import FastMCP

PORT = int(sys.argv[1])
TOKEN = sys.argv[2]


class OneToken(TokenVerifier):
    async def verify_token(self, token: str) -> AccessToken | None:
        if token == TOKEN:
            return AccessToken(token=token, client_id="tests", scopes=["mcp:read"])
        return None


mcp = FastMCP(
    "Guarded",
    host="127.0.0.1",
    port=PORT,
    token_verifier=OneToken(),
    auth=AuthSettings(
        issuer_url="http://127.0.0.1:9/",
        resource_server_url=f"http://127.0.0.1:{PORT}/mcp",
        required_scopes=["mcp:read"],
        validate_token_resource=False,
    ),
)


@mcp.tool()
def whoami() -> str:
    """Say that the token was accepted"""
    return "authorized"


if __name__ == "__main__":
    mcp.run("streamable-http")
