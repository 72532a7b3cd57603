"""Route matching: a table of rows compiled once; the first match wins.

A route is data: method, path pattern with `{param}` placeholders, handler,
auth level, and optionally the body and query parameters it accepts and what
it answers (which the OpenAPI document shows). The right path with the wrong method is a 405
that lists what is allowed; GET implies HEAD.
"""
import re
from dataclasses import dataclass, field

from ..errors import MethodNotAllowed, NotFound
from ..shapes import Answer

# Who may call a route. `any` is every signed-in principal including bots
# (only /api/auth/me and /api/auth/logout use it).
AUTH_LEVELS = ("public", "any", "user", "admin", "bot_or_admin")
PARAM = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Query:
    name: str
    type: str = "string"          # string, integer, or flag (1/0/true/false)
    doc: str = ""
    min: int = None
    max: int = None
    choices: tuple = ()           # the values a string may take (the handler refuses others)


@dataclass
class Route:
    method: str
    path: str
    handler: object
    auth: str
    body: object = None          # a validation.Body, or a media type string for raw bodies
    query: tuple = ()
    exclusive: bool = False      # runs alone: every other API request waits (a full restore)
    large_body: bool = False     # up to CRM_MAX_GRID_BODY_BYTES instead of CRM_MAX_BODY_BYTES
    returns: Answer = Answer()   # the success status and body, for the OpenAPI document
    regex: re.Pattern = field(init=False, repr=False)

    def __post_init__(self):
        if self.auth not in AUTH_LEVELS:
            raise ValueError(f"{self.method} {self.path}: unknown auth level {self.auth!r}")
        pattern = PARAM.sub(lambda m: f"(?P<{m.group(1)}>[^/]+)", re.escape(self.path).replace(r"\{", "{").replace(r"\}", "}"))
        self.regex = re.compile(f"^{pattern}$")

    @property
    def params(self) -> list:
        return PARAM.findall(self.path)


def route(method, path, handler, auth, body=None, query=(), exclusive=False, large_body=False, returns=None):
    return Route(method, path, handler, auth, body, tuple(query), exclusive, large_body, returns or Answer())


class Router:
    def __init__(self, routes):
        self.routes = list(routes)
        seen = set()
        for r in self.routes:
            if (r.method, r.path) in seen:
                raise ValueError(f"route {r.method} {r.path} is declared twice")
            seen.add((r.method, r.path))

    def match(self, method: str, path: str):
        """Return (route, params) or raise NotFound / MethodNotAllowed."""
        lookup = "GET" if method == "HEAD" else method
        allowed = []
        for r in self.routes:
            m = r.regex.match(path)
            if not m:
                continue
            if r.method == lookup:
                return r, m.groupdict()
            allowed.append(r.method)
        if allowed:
            if "GET" in allowed:
                allowed.append("HEAD")
            allow = ", ".join(sorted(set(allowed)))
            raise MethodNotAllowed(f"{method} is not allowed on {path}", headers={"Allow": allow})
        raise NotFound(f"no such endpoint: {path}")

    def allowed_methods(self, path: str) -> list:
        methods = {r.method for r in self.routes if r.regex.match(path)}
        if "GET" in methods:
            methods.add("HEAD")
        return sorted(methods)
