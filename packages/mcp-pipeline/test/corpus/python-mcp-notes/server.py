"""Notes MCP server: Streamable HTTP on :8000/mcp, notes kept by the backend service."""

import json
import os
import urllib.request

from mcp.server.mcpserver import MCPServer
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

BACKEND = os.environ.get("NOTES_BACKEND_URL", "http://backend:8080")

server = MCPServer("notes")


def _backend(method: str, path: str, body: dict | None = None) -> object:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{BACKEND}{path}", data=data, method=method, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


@server.tool()
def add_note(text: str) -> str:
    """Store a note and return its id."""
    return str(_backend("POST", "/notes", {"text": text})["id"])


@server.tool()
def list_notes() -> str:
    """Every stored note, one per line as `id: text`."""
    return "\n".join(f"{n['id']}: {n['text']}" for n in _backend("GET", "/notes"))


@server.custom_route("/health", methods=["GET"])
async def health(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


if __name__ == "__main__":
    server.run(transport="streamable-http", host="0.0.0.0", port=8000, stateless_http=True)
