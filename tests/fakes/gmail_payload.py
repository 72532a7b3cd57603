"""Gmail API `users.messages` resources built from a raw RFC 822 message.

`message_resource(raw, ...)` returns the Message resource Gmail would serve
for `raw` in the requested format ("full", "raw", "metadata", "minimal");
`attachment_bytes(raw, attachment_id)` returns the decoded bytes behind an
`attachmentId` of the "full" payload, raising KeyError when there is none.

The shape follows Google's documented Message and MessagePart resources:
part ids are "" for the root, then "0", "1", "0.1"...; headers are given as
they appear in the raw (unfolded, RFC 2047 words left encoded); leaf text
parts carry their content-transfer-decoded bytes as base64url `data`; parts
with a filename or a non-text type carry an `attachmentId` instead;
containers have `body` {"size": 0} and `parts`. A message/rfc822 part holds
the inner message's root as its single child (partId "<part>.0").

The stdlib `email` package walks the raw with the compat32 policy, because
that policy keeps header values exactly as written instead of decoding them.
"""
import base64
import html
import re
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from html.parser import HTMLParser

SNIPPET_CHARS = 200
_ATTACHMENT_PREFIX = "ANGj"  # arbitrary: makes ids look opaque, as Gmail's are
_FOLD = re.compile(r"\r?\n(?=[ \t])")


def message_resource(raw: bytes, *, id: str, thread_id: str, label_ids: list, internal_date_ms: int,
                     history_id: str, format: str = "full", metadata_headers: list | None = None) -> dict:
    """The Gmail Message resource for `raw` in `format`; ValueError for an unknown format."""
    if format not in ("full", "raw", "metadata", "minimal"):
        raise ValueError(f"unknown format {format!r}")
    root = message_from_bytes(raw)
    resource = {
        "id": id,
        "threadId": thread_id,
        "labelIds": list(label_ids),
        "snippet": _snippet(root),
        "historyId": history_id,
        "internalDate": str(internal_date_ms),
        "sizeEstimate": len(raw),
    }
    if format == "raw":
        resource["raw"] = _b64(raw)
    elif format == "full":
        resource["payload"] = _part(root, "", id)
    elif format == "metadata":
        resource["payload"] = {"mimeType": root.get_content_type(),
                               "headers": _headers(root, metadata_headers)}
    return resource


def attachment_bytes(raw: bytes, attachment_id: str) -> bytes:
    """The decoded bytes of the part `attachment_id` names; KeyError if no such attachment."""
    part_id = _part_id_of(attachment_id)
    part = _find(message_from_bytes(raw), "", part_id)
    if part is None or not _is_attachment(part):
        raise KeyError(attachment_id)
    return _content(part)


def attachment_id(message_id: str, part_id: str) -> str:
    """The stable, opaque attachmentId of part `part_id` of message `message_id`."""
    return _ATTACHMENT_PREFIX + _b64(f"{message_id}:{part_id}".encode())


# --- the payload tree --------------------------------------------------------

def _part(msg: Message, part_id: str, message_id: str) -> dict:
    part = {
        "partId": part_id,
        "mimeType": msg.get_content_type(),
        "filename": _filename(msg),
        "headers": _headers(msg),
    }
    children = _children(msg)
    if children is None:
        content = _content(msg)
        if _is_attachment(msg):
            part["body"] = {"size": len(content), "attachmentId": attachment_id(message_id, part_id)}
        elif content:
            part["body"] = {"size": len(content), "data": _b64(content)}
        else:
            part["body"] = {"size": 0}  # Gmail sends no data for an empty body
        return part
    if _is_attachment(msg):  # a forwarded message with a filename is also downloadable whole
        part["body"] = {"size": len(_content(msg)), "attachmentId": attachment_id(message_id, part_id)}
    else:
        part["body"] = {"size": 0}
    part["parts"] = [_part(child, _child_id(part_id, i), message_id) for i, child in enumerate(children)]
    return part


def _children(msg: Message) -> list | None:
    """The sub-parts of a container (a message/rfc822 part's is its inner message), else None."""
    payload = msg.get_payload()
    return payload if isinstance(payload, list) else None


def _child_id(parent: str, index: int) -> str:
    return str(index) if parent == "" else f"{parent}.{index}"


def _find(msg: Message, part_id: str, wanted: str) -> Message | None:
    if part_id == wanted:
        return msg
    for i, child in enumerate(_children(msg) or []):
        child_id = _child_id(part_id, i)
        if wanted == child_id or wanted.startswith(child_id + "."):
            return _find(child, child_id, wanted)
    return None


def _is_attachment(msg: Message) -> bool:
    if msg.get_content_maintype() == "message":
        return bool(_filename(msg))
    if _children(msg) is not None:
        return False
    return bool(_filename(msg)) or msg.get_content_maintype() != "text"


def _content(msg: Message) -> bytes:
    """The part's bytes after its content-transfer-encoding is undone."""
    children = _children(msg)
    if children is not None:  # message/rfc822: the inner message as written
        return children[0].as_bytes() if children else b""
    return msg.get_payload(decode=True) or b""


def _filename(msg: Message) -> str:
    name = msg.get_filename()
    if not name:
        return ""
    try:  # Gmail shows RFC 2047-encoded filenames decoded
        return str(make_header(decode_header(name)))
    except (LookupError, UnicodeError, ValueError):
        return name


def _headers(msg: Message, only: list | None = None) -> list:
    wanted = None if only is None else {name.lower() for name in only}
    return [{"name": name, "value": _raw_value(value)} for name, value in msg.raw_items()
            if wanted is None or name.lower() in wanted]


def _raw_value(value) -> str:
    """A header value as written: unfolded, 8-bit bytes read as UTF-8, encoded words kept."""
    text = str(value)
    text = text.encode("ascii", "surrogateescape").decode("utf-8", "replace")
    return _FOLD.sub("", text)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _part_id_of(attachment: str) -> str:
    if not attachment.startswith(_ATTACHMENT_PREFIX):
        raise KeyError(attachment)
    try:
        decoded = base64.urlsafe_b64decode(attachment[len(_ATTACHMENT_PREFIX):]).decode()
    except (ValueError, UnicodeError):
        raise KeyError(attachment) from None
    _, sep, part_id = decoded.rpartition(":")
    if not sep:
        raise KeyError(attachment)
    return part_id


# --- the snippet -------------------------------------------------------------

def _snippet(root: Message) -> str:
    """The first ~200 characters of the message's text, whitespace collapsed, HTML-escaped as Gmail's is."""
    text = _first_text(root, "text/plain")
    if text is None:
        html_text = _first_text(root, "text/html")
        text = _strip_tags(html_text) if html_text is not None else ""
    return _gmail_escape(" ".join(text.split())[:SNIPPET_CHARS])


def _gmail_escape(text: str) -> str:
    return html.escape(text, quote=False).replace('"', "&quot;").replace("'", "&#39;")


def _first_text(msg: Message, mime_type: str) -> str | None:
    if msg.get_content_maintype() == "message":
        return None  # a forwarded message's text is not the outer message's
    children = _children(msg)
    if children is not None:
        for child in children:
            found = _first_text(child, mime_type)
            if found is not None:
                return found
        return None
    if msg.get_content_type() != mime_type or _filename(msg):
        return None
    content = _content(msg)
    try:
        return content.decode(msg.get_content_charset() or "utf-8", "replace")
    except LookupError:
        return content.decode("latin-1")


class _TextOnly(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.chunks, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.chunks.append(data)


def _strip_tags(markup: str) -> str:
    parser = _TextOnly()
    parser.feed(markup)
    parser.close()
    return " ".join(parser.chunks)
