"""The MCP server's settings, read from its environment once (it is its own process, started by
an MCP client; the CRM server's settings are crm.config):

- `CRM_DB_PATH`, else `CRM_DATA_DIR/crm.db`: the CRM's SQLite file, opened read-only;
- `CRM_MCP_API_URL`: the CRM's base URL (e.g. `http://127.0.0.1:8080`), for search and writes;
- `CRM_MCP_TOKEN`: a bot-role user's sign-in token (docs/MCP.md says how an admin makes one);
- `CRM_MCP_TIMEOUT_SEC` (default 30): how long one API request may take.
"""
from dataclasses import dataclass, field
from pathlib import Path


class SettingsError(Exception):
    """A setting is missing or malformed: the server does not start, and says which."""


@dataclass(frozen=True)
class Settings:
    db_path: Path
    api_url: str
    token: str = field(repr=False)
    timeout: float = 30.0


def load(environ) -> Settings:
    """Settings from `environ`, or SettingsError naming the variable at fault (never its value for the token)."""
    raw_db, raw_dir = environ.get("CRM_DB_PATH"), environ.get("CRM_DATA_DIR")
    if not raw_db and not raw_dir:
        raise SettingsError("set CRM_DB_PATH (the CRM's crm.db) or CRM_DATA_DIR (the folder holding it)")
    db_path = Path(raw_db).expanduser() if raw_db else Path(raw_dir).expanduser() / "crm.db"
    if not db_path.is_file():
        raise SettingsError(f"CRM_DB_PATH: no database at {db_path} (start the CRM once first)")
    api_url = (environ.get("CRM_MCP_API_URL") or "").strip().rstrip("/")
    if not api_url.startswith(("http://", "https://")):
        raise SettingsError("set CRM_MCP_API_URL to the CRM's base URL, e.g. http://127.0.0.1:8080")
    token = (environ.get("CRM_MCP_TOKEN") or "").strip()
    if not token:
        raise SettingsError("set CRM_MCP_TOKEN to a bot user's sign-in token (docs/MCP.md)")
    raw_timeout = environ.get("CRM_MCP_TIMEOUT_SEC") or "30"
    try:
        timeout = float(raw_timeout)
    except ValueError:
        raise SettingsError(f"CRM_MCP_TIMEOUT_SEC must be a number of seconds, not {raw_timeout!r}") from None
    if not 0 < timeout <= 600:
        raise SettingsError("CRM_MCP_TIMEOUT_SEC must be more than 0 and at most 600")
    return Settings(db_path.resolve(), api_url, token, timeout)
