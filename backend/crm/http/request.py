"""The request object handlers receive: who, what, and a lazily opened database."""
from urllib.parse import parse_qs

from ..errors import BadRequest, UnsupportedMediaType
from ..interactions import AGENT_HEADER
from ..validation import check_query_text, parse_json


class Request:
    def __init__(self, *, app, method, path, query_string, headers, body, ip, request_id):
        self.app = app
        self.config = app.config
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.ip = ip
        self.request_id = request_id
        self.query = {k: v[-1] for k, v in parse_qs(query_string, keep_blank_values=True).items()}
        check_query_text(self.query)
        self.params = {}
        self.user = None
        self.signed_claims = None  # the bearer token's claims when its signature checked out (Shield.identify)
        self.route = None
        self._db = None
        self._json = None

    @property
    def db(self):
        if self._db is None:
            self._db = self.app.pool.acquire()
        return self._db

    def close(self):
        if self._db is not None:
            self.app.pool.release(self._db)
            self._db = None

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    @property
    def json(self):
        """The body parsed and checked by validation.parse_json. Malformed JSON is a 400, never an empty object."""
        if self._json is None:
            if not self.body:
                raise BadRequest("request body is empty; a JSON object is expected")
            if self.content_type != "application/json":
                raise UnsupportedMediaType("Content-Type must be application/json")
            try:
                text = self.body.decode("utf-8")
            except UnicodeDecodeError:
                raise BadRequest("request body is not valid UTF-8") from None
            self._json = parse_json(text)
        return self._json

    def validated(self, body_spec=None, partial=False) -> dict:
        """The JSON body checked against the route's Body (or the one given)."""
        spec = body_spec or self.route.body
        return spec.validate(self.json, partial=partial)

    @property
    def actor(self) -> dict:
        """Who did it, for the audit and interaction logs. A bot speaking for an agent (the MCP
        server sends `X-CRM-Actor: agent`) is an agent; the header means nothing from anyone else."""
        if self.user is None:
            return {"id": None, "kind": "system"}
        if self.user["role"] != "bot":
            return {"id": self.user["id"], "kind": "user"}
        agent = (self.headers.get(AGENT_HEADER) or "").strip().lower() == "agent"
        return {"id": self.user["id"], "kind": "agent" if agent else "bot"}
