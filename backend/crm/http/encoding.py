"""Content negotiation for gzip: whether a request accepts it, what is worth compressing, and how.

Only gzip is offered (stdlib zlib); the identity body is always the fallback.
`accepts_gzip` reads Accept-Encoding as RFC 9110 §12.5.3 says: q-values
count (`gzip;q=0` refuses), `*` stands for every coding not named, and a
missing header means any coding is acceptable, though clients that send none
(curl, scripts) are answered plainly: most of them could not read gzip.
"""
import zlib

# Below this a gzip body is barely smaller and costs a round of zlib per response.
MIN_BYTES = 1024
# API answers are compressed at CRM_GZIP_LEVEL (config.py, default 6: see docs/PERFORMANCE.md
# "Compression" for why). Static files are compressed once and kept, so they take the smallest body.
STATIC_LEVEL = 9

COMPRESSIBLE = ("text/", "application/json", "application/javascript", "image/svg+xml", "application/manifest+json")


def compressible(content_type: str) -> bool:
    """Text-like types; png, woff2 and other already-compressed formats are left alone."""
    base = (content_type or "").split(";", 1)[0].strip().lower()
    return base.startswith(COMPRESSIBLE) and base != "text/event-stream"


def _qvalue(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value.strip())))
            except ValueError:
                return 0.0  # an unreadable weight is no consent
    return 1.0


def accepts_gzip(header) -> bool:
    """True when Accept-Encoding gives gzip (or x-gzip, or `*` with gzip unnamed) a q-value above 0."""
    if not header:
        return False
    named, star = None, None
    for item in header.split(","):
        coding, _, params = item.strip().partition(";")
        coding = coding.strip().lower()
        if coding in ("gzip", "x-gzip"):
            q = _qvalue(params)
            named = q if named is None else max(named, q)
        elif coding == "*":
            star = _qvalue(params)
    if named is not None:
        return named > 0
    return bool(star)


def gzip_bytes(body: bytes, level: int) -> bytes:
    """A gzip member with no timestamp, so the same bytes always compress the same (stable ETags)."""
    packer = zlib.compressobj(level, zlib.DEFLATED, 31)  # wbits 31: the gzip container
    return packer.compress(body) + packer.flush()


def add_vary(headers: dict, value: str = "Accept-Encoding") -> None:
    """Add `value` to the Vary header (CORS may already have put Origin there)."""
    present = [v.strip() for v in headers.get("Vary", "").split(",") if v.strip()]
    if value.lower() not in (v.lower() for v in present):
        present.append(value)
    headers["Vary"] = ", ".join(present)
