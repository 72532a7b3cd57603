"""The MCP server's client for the CRM's HTTP API: search (the server process owns the vector
index), proposing a note, and logging a touch. Nothing else: this client has no method that
could send, draft or post anything outward, and the bot-role token it holds could not either
(a bot reaches only the bot_or_admin and `any` routes).

Every request carries the bot's token and `X-CRM-Actor: agent`, so the CRM records what it does
as an agent's (crm.http.request.Request.actor). A failure is a CRMApiError in words an agent can
act on: the CRM's own error and the fields it named, never the token.
"""
import requests

AGENT_HEADERS = {"X-CRM-Actor": "agent", "Accept": "application/json"}


class CRMApiError(Exception):
    def __init__(self, message: str, status: int = None):
        super().__init__(message)
        self.message, self.status = message, status


class CRMApi:
    def __init__(self, base_url: str, token: str, timeout: float = 30.0, session=None):
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.session = session or requests.Session()

    def search(self, **params) -> dict:
        """GET /api/search with the given filters (those that are None are left out)."""
        return self._request("GET", "/api/search", params={k: v for k, v in params.items() if v is not None})

    def propose_note(self, draft: str, investor_id=None, entity_id=None) -> dict:
        """POST /api/email/proposals: the note waits in the review queue for a human."""
        body = {"draft": draft, **({"investor_id": investor_id} if investor_id else {}),
                **({"entity_id": entity_id} if entity_id else {})}
        return self._request("POST", "/api/email/proposals", body=body)

    def log(self, action: str, refs: list, payload: dict) -> dict:
        """POST /api/interactions: one entry in the interaction log, as the agent's."""
        return self._request("POST", "/api/interactions", body={"action": action, "refs": refs, "payload": payload})

    def _request(self, method: str, path: str, params=None, body=None):
        headers = {**AGENT_HEADERS, "Authorization": f"Bearer {self._token}"}
        try:
            answer = self.session.request(method, self.base_url + path, params=params, json=body, headers=headers,
                                          timeout=self.timeout)
        except requests.RequestException as exc:
            raise CRMApiError(f"the CRM at {self.base_url} did not answer ({type(exc).__name__})") from None
        try:
            data = answer.json()
        except ValueError:
            data = None
        if answer.status_code >= 400:
            raise CRMApiError(_refusal(answer.status_code, data), answer.status_code)
        if not isinstance(data, dict) or "data" not in data:
            raise CRMApiError(f"the CRM answered {method} {path} with something that is not its JSON envelope",
                              answer.status_code)
        return data["data"]


def _refusal(status: int, data) -> str:
    error = data.get("error") if isinstance(data, dict) else None
    fields = data.get("fields") if isinstance(data, dict) else None
    if status == 401:
        return f"the CRM refused CRM_MCP_TOKEN ({error or 'unauthorized'}): sign the bot user in again for a new token"
    if status == 403:
        return f"the CRM refused this bot ({error or 'forbidden'}): CRM_MCP_TOKEN must be a bot-role user's"
    detail = "; ".join(f"{name}: {why}" for name, why in fields.items()) if isinstance(fields, dict) and fields else ""
    return f"the CRM answered {status}: {error or 'error'}" + (f" ({detail})" if detail else "")
