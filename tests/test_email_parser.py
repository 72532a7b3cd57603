"""The email parser, the HTML sanitiser and the fake Gmail payloads, on a corpus built here.

Every message is assembled in this file (EmailMessage objects or byte
strings) and served through tests.fakes.gmail_payload in Gmail's own
shapes; most tests run through both the "full" and the "raw" format.
"""
import base64
import time
from email.message import EmailMessage

import pytest

from crm.email import html as email_html
from crm.email.parser import MAX_HTML_CHARS, MAX_TEXT_CHARS, TRUNCATED, ParseError, parse_message
from fakes.gmail_payload import attachment_bytes, attachment_id, message_resource

INTERNAL_MS = 1_700_000_000_000
INTERNAL_AT = "2023-11-14T22:13:20Z"
PDF = b"%PDF-1.4 not really\x00\x01\x02"
PNG = b"\x89PNG\r\n\x1a\nfake image"


def resource(raw: bytes, fmt: str = "full", **extra) -> dict:
    return message_resource(raw, id="m1", thread_id="t1", label_ids=["INBOX", "UNREAD"],
                            internal_date_ms=INTERNAL_MS, history_id="777", format=fmt, **extra)


def parse(raw: bytes, fmt: str = "full") -> dict:
    return parse_message(resource(raw, fmt))


@pytest.fixture(params=["full", "raw"])
def fmt(request):
    return request.param


def lines(*header_lines: str, body: bytes = b"hello\r\n") -> bytes:
    """A raw message from literal header lines (bytes kept as written) and a body."""
    return "\r\n".join(header_lines).encode("utf-8") + b"\r\n\r\n" + body


def word(text: str, charset: str, encoding: str = "B") -> str:
    """`text` as one RFC 2047 encoded word."""
    data = text.encode(charset)
    if encoding == "B":
        return f"=?{charset}?B?{base64.b64encode(data).decode()}?="
    quoted = "".join(chr(b) if chr(b).isascii() and chr(b).isalnum() else f"={b:02X}" for b in data)
    return f"=?{charset}?Q?{quoted}?="


# --- the corpus ------------------------------------------------------------------

def alternative() -> bytes:
    msg = EmailMessage()
    msg["From"] = '"Ada Lovelace" <Ada@Example.COM>'
    msg["To"] = "bob@fund.example, Carol <carol@fund.example>"
    msg["Cc"] = "dave@lp.example"
    msg["Reply-To"] = "replies@example.com"
    msg["Subject"] = "Quarterly update"
    msg["Date"] = "Tue, 14 Nov 2023 10:00:00 +0100"
    msg["Message-ID"] = "<update-1@example.com>"
    msg["In-Reply-To"] = "<q-0@fund.example>"
    msg["References"] = "<root@fund.example> <q-0@fund.example>"
    msg.set_content("Numbers are up.\n")
    msg.add_alternative('<p onclick="x()">Numbers are <b>up</b>.</p><script>steal()</script>', subtype="html")
    return msg.as_bytes()


def mixed() -> bytes:
    msg = EmailMessage()
    msg["From"] = "founder@startup.example"
    msg["To"] = "partner@fund.example"
    msg["Subject"] = "Deck attached"
    msg["Date"] = "Wed, 15 Nov 2023 08:30:00 -0500"
    msg.set_content("Deck and model attached.\n")
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="deck.pdf")
    msg.add_attachment("a,b\n1,2\n", subtype="csv", filename="model.csv")
    return msg.as_bytes()


def forwarded() -> bytes:
    inner = EmailMessage()
    inner["From"] = "someone@else.example"
    inner["Subject"] = "Original"
    inner.set_content("Inner text that is not the outer body.\n")
    inner.add_attachment(PNG, maintype="image", subtype="png", filename="chart.png")
    outer = EmailMessage()
    outer["From"] = "partner@fund.example"
    outer["To"] = "team@fund.example"
    outer["Subject"] = "Fwd: Original"
    outer.set_content("See below.\n")
    outer.add_attachment(inner)
    return outer.as_bytes()


def inline_image() -> bytes:
    msg = EmailMessage()
    msg["From"] = "news@startup.example"
    msg["Subject"] = "Logo"
    msg.set_content("Our logo.\n")
    msg.add_alternative('<p>Our logo: <img src="cid:logo@startup.example" alt="logo"></p>', subtype="html")
    msg.get_payload()[1].add_related(PNG, maintype="image", subtype="png", cid="<logo@startup.example>",
                                     disposition="inline")
    return msg.as_bytes()


def html_only() -> bytes:
    msg = EmailMessage()
    msg["From"] = "ir@startup.example"
    msg["Subject"] = "HTML only"
    msg.set_content("<html><head><style>p{color:red}</style></head><body><h1>Update</h1>"
                    "<p>Revenue &amp; growth, see <a href='https://startup.example/deck'>the deck</a>."
                    "</p><ul><li>one</li><li>two</li></ul></body></html>", subtype="html")
    return msg.as_bytes()


CORPUS = {
    "alternative": alternative,
    "mixed": mixed,
    "forwarded": forwarded,
    "inline_image": inline_image,
    "html_only": html_only,
    "no_colon": lambda: b"Subject: s\r\nThis line has no colon\r\nFrom: a@b.example\r\n\r\nbody\r\n",
    "eight_bit": lambda: b"From: a@b.example\r\nSubject: plain\r\n\r\nGr\xc3\xbc\xc3\x9fe\r\n",
}


# --- structure -------------------------------------------------------------------

def test_multipart_alternative_prefers_plain_text_and_keeps_sanitised_html(fmt):
    record = parse(alternative(), fmt)
    assert record["body_text"] == "Numbers are up.\n"
    assert record["body_html"] == "<p>Numbers are <b>up</b>.</p>\n"
    assert record["attachments"] == []


def test_of_several_html_alternatives_the_last_is_taken(fmt):
    msg = EmailMessage()
    msg["From"] = "a@b.example"
    msg.set_content("Plain.\n")
    msg.add_alternative("<p>Simple</p>", subtype="html")
    rich = EmailMessage()
    rich.set_content('<p>Rich <img src="cid:c@x.example"></p>', subtype="html")
    rich.add_related(PNG, maintype="image", subtype="png", cid="<c@x.example>")
    msg.attach(rich)
    record = parse(msg.as_bytes(), fmt)
    assert (record["body_text"], record["body_html"]) == ("Plain.\n", '<p>Rich <img src="cid:c@x.example"></p>\n')
    assert [(a["part_id"], a["content_id"], a["inline"]) for a in record["attachments"]] == [
        ("2.1", "c@x.example", True)]


def test_headers_ids_and_addresses(fmt):
    record = parse(alternative(), fmt)
    assert {key: record[key] for key in ("gmail_id", "gmail_thread_id", "history_id", "label_ids")} == {
        "gmail_id": "m1", "gmail_thread_id": "t1", "history_id": "777", "label_ids": ["INBOX", "UNREAD"]}
    assert record["internal_at"] == INTERNAL_AT
    assert record["sent_at"] == "2023-11-14T09:00:00Z"
    assert record["subject"] == "Quarterly update"
    assert (record["from_name"], record["from_email"]) == ("Ada Lovelace", "ada@example.com")
    assert record["to"] == [{"name": "", "email": "bob@fund.example"},
                            {"name": "Carol", "email": "carol@fund.example"}]
    assert record["cc"] == [{"name": "", "email": "dave@lp.example"}]
    assert record["bcc"] == []
    assert record["reply_to"] == [{"name": "", "email": "replies@example.com"}]
    assert record["message_id"] == "update-1@example.com"
    assert record["in_reply_to"] == "q-0@fund.example"
    assert record["references"] == ["root@fund.example", "q-0@fund.example"]
    assert record["size_estimate"] == len(alternative())


def test_multipart_mixed_lists_attachments_with_gmail_ids():
    raw = mixed()
    record = parse(raw)
    assert record["body_text"] == "Deck and model attached.\n"
    assert record["body_html"] is None
    assert record["attachments"] == [
        {"filename": "deck.pdf", "mime_type": "application/pdf", "size": len(PDF),
         "attachment_id": attachment_id("m1", "1"), "part_id": "1", "content_id": None, "inline": False},
        {"filename": "model.csv", "mime_type": "text/csv", "size": len(b"a,b\n1,2\n"),
         "attachment_id": attachment_id("m1", "2"), "part_id": "2", "content_id": None, "inline": False},
    ]
    assert attachment_bytes(raw, record["attachments"][0]["attachment_id"]) == PDF


def test_raw_format_lists_the_same_attachments_without_gmail_ids():
    record = parse(mixed(), "raw")
    assert [(a["filename"], a["part_id"], a["size"], a["attachment_id"]) for a in record["attachments"]] == [
        ("deck.pdf", "1", len(PDF), None), ("model.csv", "2", len(b"a,b\n1,2\n"), None)]


def test_nested_message_gives_its_attachments_but_not_its_text(fmt):
    record = parse(forwarded(), fmt)
    assert record["body_text"] == "See below.\n"
    assert record["subject"] == "Fwd: Original"
    assert [(a["filename"], a["mime_type"], a["part_id"], a["size"]) for a in record["attachments"]] == [
        ("chart.png", "image/png", "1.0.1", len(PNG))]


def test_inline_image_has_its_content_id_and_the_html_keeps_the_cid_url(fmt):
    record = parse(inline_image(), fmt)
    assert record["body_text"] == "Our logo.\n"
    assert record["body_html"] == '<p>Our logo: <img src="cid:logo@startup.example" alt="logo"></p>\n'
    assert [(a["mime_type"], a["content_id"], a["inline"], a["filename"]) for a in record["attachments"]] == [
        ("image/png", "logo@startup.example", True, "")]


def test_html_only_message_gets_its_text_from_the_html(fmt):
    record = parse(html_only(), fmt)
    assert record["body_text"] == "Update\n\nRevenue & growth, see the deck.\n\n- one\n- two"
    assert record["body_html"] == (
        '<h1>Update</h1><p>Revenue &amp; growth, see <a href="https://startup.example/deck" '
        'rel="noopener noreferrer">the deck</a>.</p><ul><li>one</li><li>two</li></ul>\n')


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_raw_and_full_give_the_same_record_apart_from_attachment_ids(name):
    raw = CORPUS[name]()
    full, from_raw = parse(raw, "full"), parse(raw, "raw")
    full_ids = [a.pop("attachment_id") for a in full["attachments"]]
    raw_ids = [a.pop("attachment_id") for a in from_raw["attachments"]]
    assert from_raw == full
    assert raw_ids == [None] * len(full_ids)
    assert all(full_ids)


def test_metadata_format_has_headers_but_no_bodies():
    record = parse_message(resource(mixed(), "metadata"))
    assert record["subject"] == "Deck attached"
    assert record["from_email"] == "founder@startup.example"
    assert record["sent_at"] == "2023-11-15T13:30:00Z"
    assert (record["body_text"], record["body_html"], record["attachments"]) == (None, None, [])
    assert record["snippet"] == "Deck and model attached."


def test_metadata_format_with_chosen_headers_sees_only_those():
    record = parse_message(resource(alternative(), "metadata", metadata_headers=["subject", "FROM"]))
    assert (record["subject"], record["from_email"]) == ("Quarterly update", "ada@example.com")
    assert (record["to"], record["message_id"], record["sent_at"]) == ([], None, INTERNAL_AT)


# --- headers -----------------------------------------------------------------------

@pytest.mark.parametrize("charset, encoding, text", [
    ("utf-8", "B", "Résumé ✓ Ünïcödé"),
    ("utf-8", "Q", "Grüße aus Köln"),
    ("iso-8859-1", "Q", "Café déjà vu"),
    ("koi8-r", "B", "Привет, инвестор"),
    ("windows-1251", "B", "Отчёт за квартал"),
    ("shift_jis", "B", "日本語の件名"),
    ("iso-2022-jp", "B", "四半期報告"),
])
def test_encoded_word_subjects_in_several_charsets(fmt, charset, encoding, text):
    raw = lines("From: a@b.example", f"Subject: {word(text, charset, encoding)}")
    assert parse(raw, fmt)["subject"] == text


def test_subject_mixing_encoded_words_and_plain_text(fmt):
    raw = lines("From: a@b.example", f"Subject: Re: {word('Привет', 'koi8-r')} {word('世界', 'utf-8')} again")
    assert parse(raw, fmt)["subject"] == "Re: Привет世界 again"


def test_names_in_encoded_words(fmt):
    raw = lines(f"From: {word('François Müller', 'utf-8', 'Q')} <F.Muller@LP.Example>",
                f"Cc: {word('José', 'iso-8859-1', 'Q')} Dupont <jd@fund.example>, "
                f"{word('Пётр', 'koi8-r')} <p@x.example>",
                "Subject: x")
    record = parse(raw, fmt)
    assert (record["from_name"], record["from_email"]) == ("François Müller", "f.muller@lp.example")
    assert record["cc"] == [{"name": "José Dupont", "email": "jd@fund.example"},
                            {"name": "Пётр", "email": "p@x.example"}]


def test_garbage_address_list_keeps_the_entries_that_parse(fmt):
    raw = lines("From: not an address at all", "To: ,,garbage, <ok@fund.example>, @@@, bad@, "
                '"Quoted, Name" <Q@LP.example>, undisclosed-recipients:;', "Subject: x")
    record = parse(raw, fmt)
    assert (record["from_name"], record["from_email"]) == (None, None)
    assert record["to"] == [{"name": "", "email": "ok@fund.example"},
                            {"name": "Quoted, Name", "email": "q@lp.example"}]


def test_header_without_colon_ends_the_headers_and_nothing_raises(fmt):
    record = parse(CORPUS["no_colon"](), fmt)
    assert record["subject"] == "s"
    assert record["from_email"] is None  # it came after the broken line, so it is body text
    assert record["body_text"] == "This line has no colon\nFrom: a@b.example\n\nbody\n"


def test_missing_date_falls_back_to_internal_date(fmt):
    record = parse(lines("From: a@b.example", "Subject: no date"), fmt)
    assert record["sent_at"] == INTERNAL_AT


def test_unparseable_date_falls_back_to_internal_date(fmt):
    record = parse(lines("From: a@b.example", "Date: the day after tomorrow"), fmt)
    assert record["sent_at"] == INTERNAL_AT


def test_date_without_zone_is_read_as_utc(fmt):
    record = parse(lines("From: a@b.example", "Date: Fri, 1 Mar 2024 12:30:45 -0000"), fmt)
    assert record["sent_at"] == "2024-03-01T12:30:45Z"


def test_bare_and_repeated_message_ids(fmt):
    raw = lines("From: a@b.example", "Message-ID: bare-id@host.example",
                "In-Reply-To: <first@x.example> (message of Monday) <second@x.example>",
                "References: <r1@x.example>\r\n <r2@x.example> <r1@x.example>")
    record = parse(raw, fmt)
    assert (record["message_id"], record["in_reply_to"]) == ("bare-id@host.example", "first@x.example")
    assert record["references"] == ["r1@x.example", "r2@x.example"]


def test_no_message_id_and_no_subject(fmt):
    record = parse(lines("From: a@b.example"), fmt)
    assert (record["message_id"], record["in_reply_to"], record["references"], record["subject"]) == (
        None, None, [], "")


NO_SIGNALS = {"list_unsubscribe": False, "list_id": False, "precedence": None, "auto_submitted": None}


@pytest.mark.parametrize("header_lines, expected", [
    ((), NO_SIGNALS),
    (("List-Unsubscribe: <mailto:unsub@news.example>",), {**NO_SIGNALS, "list_unsubscribe": True}),
    (("List-Id: Fund news <news.fund.example>",), {**NO_SIGNALS, "list_id": True}),
    (("Precedence: Bulk",), {**NO_SIGNALS, "precedence": "bulk"}),
    (("Precedence: list",), {**NO_SIGNALS, "precedence": "list"}),
    (("Precedence: junk",), {**NO_SIGNALS, "precedence": "junk"}),
    (("Precedence: first-class",), NO_SIGNALS),
    (("Auto-Submitted: auto-replied; owner-email=x@y.example",),
     {**NO_SIGNALS, "auto_submitted": "auto-replied"}),
    (("Auto-Submitted: Auto-Generated",), {**NO_SIGNALS, "auto_submitted": "auto-generated"}),
    (("Auto-Submitted: no",), NO_SIGNALS),
    (("List-Unsubscribe: <https://x.example/u>", "List-Id: <l.example>", "Precedence: bulk",
      "Auto-Submitted: auto-generated"),
     {"list_unsubscribe": True, "list_id": True, "precedence": "bulk", "auto_submitted": "auto-generated"}),
])
def test_bulk_mail_signals(fmt, header_lines, expected):
    assert parse(lines("From: a@b.example", *header_lines), fmt)["bulk"] == expected


# --- bodies ----------------------------------------------------------------------------

@pytest.mark.parametrize("body, text", [
    (b"Gr\xc3\xbc\xc3\x9fe\r\n", "Grüße\n"),  # UTF-8 bytes
    (b"Gr\xfc\xdfe \x80\r\n", "Grüße €\n"),  # not UTF-8: read as cp1252
])
def test_eight_bit_body_without_charset(fmt, body, text):
    raw = lines("From: a@b.example", "Content-Type: text/plain", "Content-Transfer-Encoding: 8bit", body=body)
    assert parse(raw, fmt)["body_text"] == text


def test_eight_bit_body_labelled_ascii_is_read_as_cp1252(fmt):
    raw = lines("From: a@b.example", "Content-Type: text/plain; charset=us-ascii", body=b"na\xefve\r\n")
    assert parse(raw, fmt)["body_text"] == "naïve\n"


def test_declared_charset_is_used(fmt):
    raw = lines("From: a@b.example", "Content-Type: text/plain; charset=koi8-r",
                "Content-Transfer-Encoding: 8bit", body="Привет\r\n".encode("koi8-r"))
    assert parse(raw, fmt)["body_text"] == "Привет\n"


@pytest.mark.parametrize("body, text", [
    ("café\r\n".encode("utf-8"), "café\n"),
    ("café\r\n".encode("latin-1"), "café\n"),
])
def test_unknown_charset_falls_back(fmt, body, text):
    raw = lines("From: a@b.example", f"Subject: {word('é', 'utf-8')}=?x-unknown-42?Q?caf=E9?=",
                "Content-Type: text/plain; charset=x-unknown-42", body=body)
    record = parse(raw, fmt)
    assert record["body_text"] == text
    assert record["subject"] == "écaf\ufffd"  # the unknown word's byte cannot be read; it is replaced


def test_huge_body_is_truncated_quickly(fmt):
    raw = lines("From: a@b.example", "Content-Type: text/plain; charset=utf-8",
                body=b"x" * (MAX_TEXT_CHARS + 250_000))
    started = time.perf_counter()
    record = parse(raw, fmt)
    assert time.perf_counter() - started < 5
    assert record["body_text"] == "x" * MAX_TEXT_CHARS + TRUNCATED
    assert record["snippet"] == "x" * 200


def test_huge_html_is_cut_before_sanitising(fmt):
    filler = "<p>growth</p>" * (MAX_HTML_CHARS // len("<p>growth</p>") + 1)
    raw = lines("From: a@b.example", "Content-Type: text/html; charset=utf-8",
                body=(filler + "<p>BEYOND-THE-CAP</p>").encode())
    started = time.perf_counter()
    record = parse(raw, fmt)
    assert time.perf_counter() - started < 10
    assert "BEYOND-THE-CAP" not in record["body_html"]
    assert record["body_html"].startswith("<p>growth</p><p>growth</p>")
    assert record["body_text"].endswith(TRUNCATED)
    assert len(record["body_text"]) == MAX_TEXT_CHARS + len(TRUNCATED)


def test_message_without_text_has_an_empty_body(fmt):
    msg = EmailMessage()
    msg["From"] = "a@b.example"
    msg.set_content(PDF, maintype="application", subtype="pdf", filename="only.pdf")
    record = parse(msg.as_bytes(), fmt)
    assert (record["body_text"], record["body_html"]) == ("", None)
    assert [(a["filename"], a["part_id"]) for a in record["attachments"]] == [("only.pdf", "")]


def test_several_text_parts_of_a_mixed_message_are_joined(fmt):
    msg = EmailMessage()
    msg["From"] = "a@b.example"
    msg.set_content("First part.\n")
    msg.add_attachment(PNG, maintype="image", subtype="png", filename="photo.png")
    msg.add_attachment("Second part.\n", disposition="inline")
    assert parse(msg.as_bytes(), fmt)["body_text"] == "First part.\n\nSecond part.\n"


def test_attachment_filename_in_encoded_words(fmt):
    msg = EmailMessage()
    msg["From"] = "a@b.example"
    msg.set_content("see attached\n")
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="Bericht für Q3.pdf")
    assert [a["filename"] for a in parse(msg.as_bytes(), fmt)["attachments"]] == ["Bericht für Q3.pdf"]


def test_gmail_snippet_is_unescaped():
    raw = lines("From: a@b.example", body=b"It's <fine> & done\r\n")
    message = resource(raw)
    assert message["snippet"] == "It&#39;s &lt;fine&gt; &amp; done"
    assert parse_message(message)["snippet"] == "It's <fine> & done"


def test_snippet_falls_back_to_the_start_of_the_body():
    message = resource(lines("From: a@b.example", body=b"  Line one\r\n\r\n  line   two " + b"y" * 300))
    del message["snippet"]
    assert parse_message(message)["snippet"] == ("Line one line two " + "y" * 300)[:200]


def test_corrupt_part_data_and_deep_nesting_do_not_raise():
    leaf = {"partId": "0", "mimeType": "text/plain", "headers": [], "body": {"size": 3, "data": "%%%"}}
    deep = {"mimeType": "text/plain", "headers": [], "body": {"size": 2, "data": "aGk="}}
    for _ in range(5000):
        deep = {"mimeType": "multipart/mixed", "headers": [], "body": {"size": 0}, "parts": [deep]}
    assert parse_message({"payload": leaf})["body_text"] == ""
    assert parse_message({"payload": deep})["body_text"] == ""


def nested_raw(levels: int) -> str:
    """base64url of a message with `levels` nested multiparts around one text part."""
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
                       for i in range(levels))
    closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(levels)))
    raw = b"From: a@b.example\r\n" + opening + b"Content-Type: text/plain\r\n\r\nhi\r\n" + closing
    return base64.urlsafe_b64encode(raw).decode()


def test_raw_nesting_is_read_to_a_bounded_depth():
    assert parse_message({"raw": nested_raw(10)})["body_text"] == "hi\n"
    assert parse_message({"raw": nested_raw(60)})["body_text"] == ""  # below MAX_DEPTH nothing is walked


@pytest.mark.parametrize("message, error", [
    ({}, "message has neither payload nor raw"),
    ({"id": "m1", "raw": "not base64! secret body text"}, "raw is not base64url"),
    ({"raw": 12}, "raw is not base64url"),
    ({"payload": "From: a@b.example"}, "payload is not an object"),
    (["not", "a", "message"], "message is not an object"),
    ({"raw": nested_raw(3000)}, "raw is nested too deeply to parse"),
])
def test_messages_without_structure_raise_parse_error_without_their_content(message, error):
    with pytest.raises(ParseError) as raised:
        parse_message(message)
    assert str(raised.value) == error


def test_missing_gmail_fields_give_empty_values():
    record = parse_message({"payload": {"mimeType": "text/plain", "headers": [], "body": {"size": 0}}})
    assert {key: record[key] for key in ("gmail_id", "label_ids", "internal_at", "sent_at", "size_estimate",
                                         "snippet", "body_text")} == {
        "gmail_id": None, "label_ids": [], "internal_at": None, "sent_at": None, "size_estimate": 0,
        "snippet": "", "body_text": ""}


# --- the sanitiser and the text reader ----------------------------------------------------

@pytest.mark.parametrize("html, clean", [
    ('<p>Hi<script>alert(1)</script></p>', "<p>Hi</p>"),
    ('<img src="https://cdn.example/x.png" onerror="alert(1)">', '<img src="https://cdn.example/x.png">'),
    ('<a href="javascript:alert(1)">x</a>', '<a rel="noopener noreferrer">x</a>'),
    ('<a href=" JaVaScRiPt:alert(1)">x</a>', '<a rel="noopener noreferrer">x</a>'),
    ('<a href="vbscript:msgbox">x</a>', '<a rel="noopener noreferrer">x</a>'),
    ('<a href="data:text/html,<b>x</b>">x</a>', '<a rel="noopener noreferrer">x</a>'),
    ('<img src="data:image/png;base64,AAAA" alt="d">', '<img alt="d">'),
    ('<a href="/settings">x</a>', '<a rel="noopener noreferrer">x</a>'),
    ('<p style="position:fixed" class="c" id="i">x</p>', "<p>x</p>"),
    ('<iframe src="https://x.example"></iframe><object data="x">fb</object><embed src="y">ok',
     "ok"),
    ('<form action="https://x.example"><input name="q" value="v">Search</form>', "Search"),
    ('<style>p{}</style><!-- note --><p>x</p>', "<p>x</p>"),
])
def test_sanitize_removes_active_content(html, clean):
    assert email_html.sanitize(html) == clean


def test_sanitize_keeps_ordinary_markup_and_adds_rel():
    markup = ('<div><h2>Title</h2><p><b>b</b> <i>i</i> <u>u</u> <strong>s</strong> <em>e</em></p>'
              '<blockquote>q</blockquote><pre><code>c</code></pre><ul><li>l</li></ul><ol><li>o</li></ol>'
              '<table border="1"><tbody><tr><th>h</th><td colspan="2">d</td></tr></tbody></table>'
              '<font color="red" face="Arial">f</font><center>c</center><span>s</span><br>'
              '<a href="https://fund.example/a" title="t">link</a><a href="mailto:x@fund.example">mail</a>'
              '<img src="https://cdn.example/p.png" alt="p" width="10" height="20"><img src="cid:logo@x"></div>')
    expected = markup.replace('title="t">', 'title="t" rel="noopener noreferrer">').replace(
        'example">mail', 'example" rel="noopener noreferrer">mail')
    assert email_html.sanitize(markup) == expected


@pytest.mark.parametrize("html, text", [
    ("<p>one</p><p>two</p>", "one\n\ntwo"),
    ("<div>a</div><div>b<br>c</div>", "a\nb\nc"),
    ("See <a href='https://x.example'>the  deck</a>.", "See the deck."),
    ("<script>var x = 1;</script><style>p {}</style><title>T</title>Body", "Body"),
    ("Fish &amp; chips &lt;3 &eacute;t&#233; &euro;&nbsp;5", "Fish & chips <3 été € 5"),
    ("<p>  lots \n of\t space  </p>", "lots of space"),
    ("<pre>  keep\n    this</pre>", "keep\n    this"),
    ("<table><tr><td>Name</td><td>Value</td></tr><tr><td>x</td><td>1</td></tr></table>", "Name Value\nx 1"),
    ("<ul><li>a</li><li>b</li></ul>", "- a\n- b"),
    ("<p>unclosed <b>bold", "unclosed bold"),
])
def test_to_text(html, text):
    assert email_html.to_text(html) == text


# --- the fake Gmail payloads themselves -------------------------------------------------------

def test_fake_payload_tree_follows_gmail_shapes():
    raw = forwarded()
    payload = resource(raw)["payload"]
    assert (payload["partId"], payload["mimeType"], payload["body"]) == ("", "multipart/mixed", {"size": 0})
    text, nested = payload["parts"]
    assert (text["partId"], text["mimeType"], text["filename"]) == ("0", "text/plain", "")
    assert base64.urlsafe_b64decode(text["body"]["data"]) == b"See below.\n"
    assert (nested["partId"], nested["mimeType"]) == ("1", "message/rfc822")
    inner_root = nested["parts"][0]
    assert inner_root["partId"] == "1.0"
    assert {"name": "Subject", "value": "Original"} in inner_root["headers"]
    image = inner_root["parts"][1]
    assert (image["partId"], image["filename"], image["body"]["size"]) == ("1.0.1", "chart.png", len(PNG))
    assert "data" not in image["body"]
    assert attachment_bytes(raw, image["body"]["attachmentId"]) == PNG


def test_fake_headers_are_left_encoded():
    subject = word("Привет", "koi8-r")
    headers = resource(lines("From: a@b.example", f"Subject: {subject}"))["payload"]["headers"]
    assert headers == [{"name": "From", "value": "a@b.example"}, {"name": "Subject", "value": subject}]


def test_fake_raw_minimal_and_unknown_attachments():
    raw = mixed()
    as_raw = resource(raw, "raw")
    assert base64.urlsafe_b64decode(as_raw["raw"]) == raw and "payload" not in as_raw
    minimal = resource(raw, "minimal")
    assert set(minimal) == {"id", "threadId", "labelIds", "snippet", "historyId", "internalDate", "sizeEstimate"}
    assert minimal["internalDate"] == str(INTERNAL_MS)
    with pytest.raises(KeyError):
        attachment_bytes(raw, attachment_id("m1", "0"))  # the text body is not an attachment
    with pytest.raises(KeyError):
        attachment_bytes(raw, "nonsense")
