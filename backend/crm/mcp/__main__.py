"""`python -m crm.mcp` (with backend/ on PYTHONPATH): the CRM MCP server over stdio.

Settings come from the environment (crm/mcp/settings.py, docs/MCP.md); a missing or malformed
one is one line on stderr and exit status 2. stdout carries only the protocol.
"""
import logging
import os
import sys

from . import server, settings


def main(environ=None) -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    try:
        loaded = settings.load(os.environ if environ is None else environ)
    except settings.SettingsError as exc:
        print(f"crm.mcp: {exc}", file=sys.stderr)
        return 2
    server.build(loaded).run("stdio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
