"""An OAuth-protected MCP server built from the Python SDK's (mcp 1.x) own auth support: an
authorization server (the SDK's authorize, token and registration routes and RFC 8414
metadata) and a FastMCP resource server (RFC 9728 metadata, 401 challenges, bearer checks) on
two loopback ports, in one process so they can share the in-memory token store.

Usage: oauth_servers.py AS_PORT RS_PORT [ACCESS_TTL_SECONDS]

The authorization server approves every request at once (no login page), as a test identity
provider does, and redirects the browser straight back with a code. Access tokens live
ACCESS_TTL seconds (default 3600); refresh tokens rotate. The MCP endpoint is
http://127.0.0.1:RS_PORT/mcp.
"""

import asyncio
import secrets
import sys
import time

import uvicorn
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    ProviderTokenVerifier,
    RefreshToken,
    construct_redirect_uri,
)
from mcp.server.auth.routes import create_auth_routes
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions
from mcp.server.fastmcp import FastMCP
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyHttpUrl
from starlette.applications import Starlette

AS_PORT = int(sys.argv[1])
RS_PORT = int(sys.argv[2])
TTL = int(sys.argv[3]) if len(sys.argv) > 3 else 3600
ISSUER = f"http://127.0.0.1:{AS_PORT}"
SCOPES = ["mcp:read", "mcp:write"]


class Provider:
    def __init__(self):
        self.clients: dict[str, OAuthClientInformationFull] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.access: dict[str, AccessToken] = {}
        self.refresh: dict[str, RefreshToken] = {}

    async def get_client(self, client_id: str):
        return self.clients.get(client_id)

    async def register_client(self, client_info: OAuthClientInformationFull):
        self.clients[client_info.client_id] = client_info

    async def authorize(self, client, params: AuthorizationParams) -> str:
        code = secrets.token_urlsafe(24)
        self.codes[code] = AuthorizationCode(
            code=code,
            scopes=params.scopes or ["mcp:read"],
            expires_at=time.time() + 300,
            client_id=client.client_id,
            code_challenge=params.code_challenge,
            redirect_uri=params.redirect_uri,
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            resource=params.resource,
        )
        return construct_redirect_uri(str(params.redirect_uri), code=code, state=params.state)

    async def load_authorization_code(self, client, authorization_code: str):
        code = self.codes.get(authorization_code)
        return code if code and code.client_id == client.client_id else None

    async def exchange_authorization_code(self, client, authorization_code: AuthorizationCode):
        self.codes.pop(authorization_code.code, None)
        return self.issue(client.client_id, authorization_code.scopes, authorization_code.resource)

    async def load_refresh_token(self, client, refresh_token: str):
        token = self.refresh.get(refresh_token)
        return token if token and token.client_id == client.client_id else None

    async def exchange_refresh_token(self, client, refresh_token: RefreshToken, scopes):
        self.refresh.pop(refresh_token.token, None)  # rotated: the old one is spent
        print(f"refreshed a token for {client.client_id}", file=sys.stderr, flush=True)
        return self.issue(client.client_id, scopes or refresh_token.scopes, refresh_token.resource)

    async def load_access_token(self, token: str):
        found = self.access.get(token)
        if found and found.expires_at and found.expires_at < time.time():
            return None
        return found

    async def revoke_token(self, token):
        self.access.pop(getattr(token, "token", ""), None)
        self.refresh.pop(getattr(token, "token", ""), None)

    def issue(self, client_id: str, scopes: list[str], resource):
        access = "at-" + secrets.token_urlsafe(24)
        refresh = "rt-" + secrets.token_urlsafe(24)
        self.access[access] = AccessToken(
            token=access,
            client_id=client_id,
            scopes=scopes,
            expires_at=int(time.time()) + TTL,
            resource=resource,
        )
        self.refresh[refresh] = RefreshToken(
            token=refresh, client_id=client_id, scopes=scopes, resource=resource
        )
        return OAuthToken(
            access_token=access,
            token_type="Bearer",
            expires_in=TTL,
            refresh_token=refresh,
            scope=" ".join(scopes),
        )


provider = Provider()

authorization_server = Starlette(
    routes=create_auth_routes(
        provider,
        issuer_url=AnyHttpUrl(ISSUER),
        client_registration_options=ClientRegistrationOptions(
            enabled=True, valid_scopes=SCOPES, default_scopes=["mcp:read"]
        ),
    )
)

mcp = FastMCP(
    "Protected",
    host="127.0.0.1",
    port=RS_PORT,
    token_verifier=ProviderTokenVerifier(provider),
    auth=AuthSettings(
        issuer_url=ISSUER,
        resource_server_url=f"http://127.0.0.1:{RS_PORT}/mcp",
        required_scopes=["mcp:read"],
    ),
)


@mcp.tool()
def whoami() -> str:
    """Say that the bearer token was accepted"""
    return "authorized"


@mcp.tool()
def my_token() -> str:
    """Print the bearer token the call came with, as a careless server might"""
    token = get_access_token()
    return token.token if token else ""


async def main():
    servers = [
        uvicorn.Server(uvicorn.Config(authorization_server, host="127.0.0.1", port=AS_PORT, log_level="warning")),
        uvicorn.Server(uvicorn.Config(mcp.streamable_http_app(), host="127.0.0.1", port=RS_PORT, log_level="warning")),
    ]
    await asyncio.gather(*(s.serve() for s in servers))


if __name__ == "__main__":
    asyncio.run(main())
