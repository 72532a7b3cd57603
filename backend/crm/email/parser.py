"""A Gmail message resource, turned into one canonical record.

`parse_message(message)` accepts a `users.messages` resource fetched in the
"full", "raw" or "metadata" format and returns a dict with every key below
always present. Email is untrusted input: malformed headers, charsets and
bodies degrade to what can be read, and only a message with no usable
structure at all (neither `payload` nor `raw`, `raw` that is not base64, or
MIME nested thousands deep) raises ParseError.

    gmail_id, gmail_thread_id, history_id   Gmail's ids (str, or None if absent)
    label_ids        list of Gmail label ids
    internal_at      Gmail's internalDate as "YYYY-MM-DDTHH:MM:SSZ" (UTC), or None
    message_id       Message-ID without <>, or None
    in_reply_to      the first id of In-Reply-To without <>, or None
    references       the ids of References without <>, in order, repeats dropped
    subject          decoded (RFC 2047, any charset); "" when there is none
    from_name        the From display name, None when it has none
    from_email       the From address lower-cased, None when From does not parse
    to, cc, bcc, reply_to   lists of {"name", "email"}; entries that do not parse are dropped
    sent_at          Date in UTC as above; internal_at when Date is missing or unparseable
    bulk             {"list_unsubscribe": bool, "list_id": bool,
                      "precedence": "bulk" | "list" | "junk" | None,
                      "auto_submitted": the Auto-Submitted keyword, None when absent or "no"}
    body_text        the text/plain parts, else the HTML parts as readable text; at most
                     MAX_TEXT_CHARS, then "\\n[truncated]"; None for "metadata"
    body_html        the HTML parts (at most MAX_HTML_CHARS) sanitised; None when the message
                     has no HTML part, and for "metadata"
    snippet          Gmail's snippet, HTML entities decoded; else the start of body_text
    attachments      [{"filename", "mime_type", "size", "attachment_id", "part_id",
                       "content_id" (without <>) or None, "inline": bool}]; [] for "metadata"
    size_estimate    Gmail's sizeEstimate (int; 0 when absent)

The body is the outer message's: a forwarded message/rfc822 part contributes
its attachments, never its text. "raw" and "full" give equal records for the
same message except `attachment_id`, which only "full" carries (in "raw" the
bytes are inline, so it is None); "metadata" carries no bodies and no
attachments.

Headers are decoded with `email.policy.default`, the project's rule for
parsing mail; "raw" is read with `email.message_from_bytes(..., policy.default)`
and then walked like a "full" payload, so both go through the same code.
"""
import base64
import binascii
import codecs
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from html import unescape

from crm.email import html as email_html

MAX_TEXT_CHARS = 1_000_000
MAX_HTML_CHARS = 2_000_000
TRUNCATED = "\n[truncated]"
SNIPPET_CHARS = 200
MAX_DEPTH = 32  # MIME nesting deeper than any real mail; bounds the recursive walks
PRECEDENCES = ("bulk", "list", "junk")
ADDRESS_FIELDS = {"to": "to", "cc": "cc", "bcc": "bcc", "reply_to": "reply-to"}


class ParseError(Exception):
    """The message has no usable structure; the text says what was wrong, never body text."""


def parse_message(message: dict) -> dict:
    """The canonical record of a Gmail message resource (see the module docstring)."""
    if not isinstance(message, dict):
        raise ParseError("message is not an object")
    root = _root(message)
    headers = root.headers
    internal_at = _internal_at(message.get("internalDate"))
    from_name, from_email = _sender(headers)
    body_text, body_html = (None, None) if root.metadata_only else _bodies(root)
    return {
        "gmail_id": _str_or_none(message.get("id")),
        "gmail_thread_id": _str_or_none(message.get("threadId")),
        "history_id": _str_or_none(message.get("historyId")),
        "label_ids": _strings(message.get("labelIds")),
        "internal_at": internal_at,
        "message_id": _first(_ids(_raw_header(headers, "message-id"))),
        "in_reply_to": _first(_ids(_raw_header(headers, "in-reply-to"))),
        "references": list(dict.fromkeys(_ids(_raw_header(headers, "references")))),
        "subject": _text_header(headers, "subject"),
        "from_name": from_name,
        "from_email": from_email,
        **{field: _addresses(headers, name) for field, name in ADDRESS_FIELDS.items()},
        "sent_at": _sent_at(headers) or internal_at,
        "bulk": _bulk(headers),
        "body_text": body_text,
        "body_html": body_html,
        "snippet": _snippet(message.get("snippet"), body_text),
        "attachments": [] if root.metadata_only else _attachments(root),
        "size_estimate": _int_or_zero(message.get("sizeEstimate")),
    }


# --- one part tree for every format ------------------------------------------

@dataclass
class _Part:
    """A MIME part as both formats describe it; `content` is None when only Gmail holds the bytes."""
    part_id: str
    mime_type: str
    headers: list  # [(name, value)] as written: unfolded, encoded words kept
    filename: str = ""  # Gmail's own reading of it; the part's headers come first
    content: bytes | None = None  # after the content-transfer-encoding is undone
    size: int = 0
    attachment_id: str | None = None
    children: list | None = None  # None for a leaf
    metadata_only: bool = False


def _root(message: dict) -> _Part:
    if "raw" in message:
        raw = _unbase64(message["raw"])
        if raw is None:
            raise ParseError("raw is not base64url")
        return _from_email(_email_from_bytes(raw), "", 0)
    payload = message.get("payload")
    if payload is None:
        raise ParseError("message has neither payload nor raw")
    if not isinstance(payload, dict):
        raise ParseError("payload is not an object")
    if "body" not in payload and "parts" not in payload:  # the "metadata" format
        return _Part("", _gmail_mime_type(payload), _gmail_headers(payload), metadata_only=True)
    return _from_gmail(payload, "", 0)


def _email_from_bytes(raw: bytes) -> EmailMessage:
    try:
        return message_from_bytes(raw, policy=policy.default)
    except RecursionError:  # the stdlib parser recurses once per MIME level
        raise ParseError("raw is nested too deeply to parse") from None


def _from_gmail(payload: dict, part_id: str, depth: int) -> _Part:
    body = payload.get("body") if isinstance(payload.get("body"), dict) else {}
    content = _unbase64(body["data"]) if "data" in body else None
    part = _Part(part_id, _gmail_mime_type(payload), _gmail_headers(payload),
                 filename=_str_or_none(payload.get("filename")) or "", content=content,
                 size=_int_or_zero(body.get("size")) or len(content or b""),
                 attachment_id=_str_or_none(body.get("attachmentId")))
    parts = payload.get("parts")
    if isinstance(parts, list):
        part.children = [] if depth >= MAX_DEPTH else [
            _from_gmail(child, _child_id(part_id, i), depth + 1)
            for i, child in enumerate(parts) if isinstance(child, dict)]
    return part


def _from_email(msg: EmailMessage, part_id: str, depth: int) -> _Part:
    headers = [(name, _unfold(_readable(str(value)))) for name, value in msg.raw_items()]
    part = _Part(part_id, msg.get_content_type(), headers)
    payload = msg.get_payload()
    if isinstance(payload, list):  # a multipart, or a message/rfc822 holding its inner message
        part.children = [] if depth >= MAX_DEPTH else [
            _from_email(child, _child_id(part_id, i), depth + 1) for i, child in enumerate(payload)]
    else:
        part.content = msg.get_payload(decode=True) or b""
        part.size = len(part.content)
    return part


def _gmail_headers(payload: dict) -> list:
    headers = payload.get("headers")
    return [(h["name"], _unfold(str(h.get("value") or ""))) for h in headers or []
            if isinstance(h, dict) and isinstance(h.get("name"), str)]


def _gmail_mime_type(payload: dict) -> str:
    mime_type = payload.get("mimeType")
    return mime_type.lower() if isinstance(mime_type, str) and mime_type else "text/plain"


def _child_id(parent: str, index: int) -> str:
    return str(index) if parent == "" else f"{parent}.{index}"


# --- bodies and attachments ---------------------------------------------------

def _bodies(root: _Part) -> tuple:
    """(body_text, body_html) of the outer message."""
    plain, html = _body_parts(root)
    html_source = "\n".join(_text_of(part) for part in html)[:MAX_HTML_CHARS] if html else None
    if plain:
        text = "\n".join(_text_of(part) for part in plain)
    elif html_source is not None:
        text = email_html.to_text(html_source)
    else:
        text = ""
    body_html = email_html.sanitize(html_source) if html_source is not None else None
    return _capped(text), body_html


def _body_parts(part: _Part) -> tuple:
    """The text/plain and text/html body parts under `part`, in order; of alternatives, the last of each kind."""
    if part.mime_type == "message/rfc822":
        return [], []  # a forwarded message's text is not this message's body
    if part.children is None:
        if not _is_body(part):
            return [], []
        return ([part], []) if part.mime_type == "text/plain" else ([], [part])
    found = [_body_parts(child) for child in part.children]
    if part.mime_type == "multipart/alternative":  # each alternative is the whole body; the last is the richest
        return (next((p for p, _ in reversed(found) if p), []), next((h for _, h in reversed(found) if h), []))
    return [p for plain, _ in found for p in plain], [h for _, html in found for h in html]


def _attachments(part: _Part) -> list:
    """Every leaf that is not body text, nested messages' included, in tree order."""
    if part.children is not None:
        return [found for child in part.children for found in _attachments(child)]
    if _is_body(part):
        return []
    return [{
        "filename": _filename(part),
        "mime_type": part.mime_type,
        "size": part.size,
        "attachment_id": part.attachment_id,
        "part_id": part.part_id,
        "content_id": _first(_ids(_raw_header(part.headers, "content-id"))),
        "inline": _is_inline(part),
    }]


def _is_body(part: _Part) -> bool:
    return (part.mime_type in ("text/plain", "text/html") and not _filename(part)
            and _disposition(part) != "attachment")


def _is_inline(part: _Part) -> bool:
    disposition = _disposition(part)
    return disposition == "inline" or (disposition is None and
                                       _raw_header(part.headers, "content-id") is not None)


def _disposition(part: _Part) -> str | None:
    header = _parsed(part.headers, "content-disposition")
    value = getattr(header, "content_disposition", None)
    return value.lower() if value else None


def _filename(part: _Part) -> str:
    for name, param in (("content-disposition", "filename"), ("content-type", "name")):
        value = getattr(_parsed(part.headers, name), "params", {}).get(param)
        if value:
            return _readable(str(value))
    return part.filename


def _text_of(part: _Part) -> str:
    charset = getattr(_parsed(part.headers, "content-type"), "params", {}).get("charset")
    text = _decode(part.content or b"", charset)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode(data: bytes, charset: str | None) -> str:
    """`data` as text: the declared charset, else UTF-8, else the declared one (or cp1252) lossily; never raises."""
    for candidate in (charset, "utf-8"):
        if candidate:
            try:
                return data.decode(candidate)
            except (LookupError, UnicodeError, ValueError):
                continue  # unknown or mislabelled charset: try the next reading
    try:
        if charset and codecs.lookup(charset).name != "ascii":  # 8-bit text labelled ASCII is mislabelled
            return data.decode(charset, "replace")
    except (LookupError, ValueError):
        pass  # an unknown label: cp1252 below
    return data.decode("cp1252", "replace")


def _capped(text: str) -> str:
    return text[:MAX_TEXT_CHARS] + TRUNCATED if len(text) > MAX_TEXT_CHARS else text


def _snippet(gmail_snippet, body_text: str | None) -> str:
    if isinstance(gmail_snippet, str) and gmail_snippet:
        return unescape(gmail_snippet)
    # Whitespace is collapsed on a bounded prefix: a huge body need not be split whole.
    prefix = (body_text or "")[:SNIPPET_CHARS * 20]
    return " ".join(prefix.split())[:SNIPPET_CHARS]


# --- headers ------------------------------------------------------------------

def _raw_header(headers: list, name: str) -> str | None:
    """The first `name` header's value as written, or None."""
    return next((value for key, value in headers if key.lower() == name), None)


def _parsed(headers: list, name: str):
    """The first `name` header parsed by policy.default, or None when absent or unparseable."""
    value = _raw_header(headers, name)
    return None if value is None else _parse_header(name, value)


def _parse_header(name: str, value: str):
    try:
        return policy.default.header_factory(name, value)
    except Exception:  # the email package can still trip on hostile input; one header never fails a message
        return None


def _text_header(headers: list, name: str) -> str:
    header = _parsed(headers, name)
    return _readable(str(header)) if header is not None else ""


def _addresses(headers: list, name: str) -> list:
    """Every parseable mailbox of every `name` header: [{"name", "email"}], emails lower-cased."""
    found = []
    for key, value in headers:
        if key.lower() != name:
            continue
        for address in getattr(_parse_header(name, value), "addresses", ()):
            if address.username and address.domain:
                found.append({"name": _readable(address.display_name or ""),
                              "email": _readable(address.addr_spec).lower()})
    return found


def _sender(headers: list) -> tuple:
    senders = _addresses(headers, "from")
    if not senders:
        return None, None
    return senders[0]["name"] or None, senders[0]["email"]


_BRACKETED_ID = re.compile(r"<([^<>\s]+)>")


def _ids(value: str | None) -> list:
    """The message ids in a header value, without <>; bare ids are taken when none is bracketed."""
    if not value:
        return []
    return _BRACKETED_ID.findall(value) or [token for token in value.split() if "@" in token]


def _bulk(headers: list) -> dict:
    precedence = (_raw_header(headers, "precedence") or "").strip().lower()
    auto = (_raw_header(headers, "auto-submitted") or "").split(";")[0].strip().lower()
    return {
        "list_unsubscribe": bool((_raw_header(headers, "list-unsubscribe") or "").strip()),
        "list_id": bool((_raw_header(headers, "list-id") or "").strip()),
        "precedence": precedence if precedence in PRECEDENCES else None,
        "auto_submitted": auto if auto and auto != "no" else None,
    }


def _unfold(value: str) -> str:
    return "".join(value.splitlines())


def _readable(text: str) -> str:
    """`text` with bytes the email package kept undecoded read as UTF-8, else cp1252."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that is not an escaped byte
        return text.encode("utf-8", "replace").decode("utf-8")
    return raw.decode("utf-8") if _is_utf8(raw) else raw.decode("cp1252", "replace")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --- dates and scalars -----------------------------------------------------------

def _internal_at(value) -> str | None:
    try:
        return _iso(datetime.fromtimestamp(int(value) // 1000, tz=timezone.utc))
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _sent_at(headers: list) -> str | None:
    moment = getattr(_parsed(headers, "date"), "datetime", None)
    if moment is None:
        return None
    try:
        return _iso(moment)
    except (ValueError, OverflowError):
        return None


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:  # "-0000" means the zone is unknown; UTC is the honest reading
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _unbase64(value) -> bytes | None:
    """The bytes of base64url text (padding optional), or None when it is not base64."""
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        return None


def _strings(value) -> list:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _first(values: list):
    return values[0] if values else None


def _str_or_none(value) -> str | None:
    return value if isinstance(value, str) else None


def _int_or_zero(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
