"""The CRM MCP server (`python -m crm.mcp`, docs/MCP.md): agents read the CRM and propose, never send.

- `settings`: where the database and the CRM's API are, from the environment.
- `reads`: the read tools' queries, on a read-only SQLite connection (`mode=ro`).
- `crmapi`: the HTTP client for everything else (search, proposing a note, logging a touch),
  with a bot-role token; every request says `X-CRM-Actor: agent`.
- `server`: the tools, registered on the SDK's `MCPServer`; every call is logged to the
  interaction log through the API (`POST /api/interactions`).
- `__main__`: stdio.
"""
