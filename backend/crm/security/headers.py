"""Security headers on every response, CORS for configured origins only, and the client's address."""
import ipaddress
from functools import lru_cache

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    # http(s) images: for captured email's remote images, shown only inside its sandboxed srcdoc
    # frame and only after the reader presses "Load images". A srcdoc frame inherits this policy
    # (its own <meta> policy can only narrow it), so without these no remote image could ever
    # load there; until the click the page strips them and the frame's own policy blocks them
    # (frontend/widgets/emailview.js). Our pages never build an image from data.
    "img-src 'self' data: https: http:",
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
    a client pick a fresh address for every request. With CRM_PROXY_ADDRESSES
    the header is believed only from the proxy itself: on StartOS a plain-HTTP
    address reaches the container directly, with whatever header the client wrote.
    """
    if config.trust_proxy and forwarded_for and from_proxy(config.proxy_addresses, peer):
        last = forwarded_for.split(",")[-1].strip()
        if last:
            return last
    return peer


def from_proxy(proxy_addresses: tuple, peer: str) -> bool:
    if not proxy_addresses:
        return True
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in proxy_networks(proxy_addresses))


@lru_cache(maxsize=4)
def proxy_networks(proxy_addresses: tuple) -> tuple:
    return tuple(ipaddress.ip_network(address, strict=False) for address in proxy_addresses)
