"""Security headers on every response, and CORS for configured origins only."""

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

BASE = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(production: bool) -> dict:
    headers = dict(BASE)
    if production:
        headers["Strict-Transport-Security"] = HSTS
    return headers


def cors_headers(config, origin: str, preflight: bool = False, allow_methods: str = "") -> dict:
    """CORS headers when `origin` is one the operator allowed; otherwise none."""
    if not origin or origin.rstrip("/") not in config.cors_origins:
        return {}
    headers = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    if preflight:
        headers["Access-Control-Allow-Methods"] = allow_methods
        headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, Last-Event-ID"
        headers["Access-Control-Max-Age"] = "600"
    return headers


def client_ip(config, peer: str, forwarded_for: str) -> str:
    """The client's address: the socket peer, or the last X-Forwarded-For hop when trusted.

    The last hop is the one our own proxy appended; anything to its left came
    from the client and is forgeable, so keying limits and bans on it would let
    a client pick a fresh address for every request.
    """
    if config.trust_proxy and forwarded_for:
        last = forwarded_for.split(",")[-1].strip()
        if last:
            return last
    return peer
