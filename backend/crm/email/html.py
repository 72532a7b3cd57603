"""Email HTML: sanitised for display in a sandboxed iframe, and turned into readable text.

`sanitize(html)` keeps an allow-list of ordinary formatting and drops the
rest. Kept: text formatting, paragraphs, lists, headings, tables, quotes,
pre/code, `font` and `center` (old mail still uses them), links with `href`
(given rel="noopener noreferrer"), images with src/alt/width/height.
Dropped with their content: script, style, iframe, object, embed, svg, math,
select, textarea and page furniture (head, title, template, noscript);
dropped but their text kept: form, button and any other tag not on the list
(input, being empty, simply goes). Every on* handler and every `style`
attribute is removed: the display page's Content Security Policy forbids
inline styles anyway, so keeping them would only carry injection surface.
URLs are allowed only with http, https, mailto or cid (inline parts);
javascript:, vbscript: and data: URLs are removed wherever they occur, data:
images included (mail that needs an embedded image uses cid:). Relative URLs
are removed: they would resolve against this application. Remote images keep
their `src`; the display layer blocks them until the reader asks.

`to_text(html)` gives the text a reader sees: block elements become line
breaks, links keep their text, script/style/title are dropped, entities
are decoded, and runs of whitespace collapse (inside <pre> they are kept).
"""
import re
from html.parser import HTMLParser

import nh3

_TAGS = {
    "a", "abbr", "address", "b", "big", "blockquote", "br", "caption", "center", "cite", "code",
    "col", "colgroup", "dd", "del", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "q", "s", "small",
    "span", "strike", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "tt", "u", "ul",
}
# Removed together with everything inside them: their content is not text a reader should see.
_DROPPED_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "head", "title",
                         "template", "noscript", "svg", "math", "select", "textarea"}
_TABLE_LAYOUT = {"align", "valign", "width", "height", "bgcolor"}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height", "title"},
    "font": {"color", "face", "size"},
    "table": _TABLE_LAYOUT | {"border", "cellpadding", "cellspacing"},
    "td": _TABLE_LAYOUT | {"colspan", "rowspan"},
    "th": _TABLE_LAYOUT | {"colspan", "rowspan"},
    "tr": _TABLE_LAYOUT,
    "col": {"span", "width"},
    "colgroup": {"span", "width"},
    "ol": {"start", "type"},
    "div": {"align"},
    "p": {"align"},
    "blockquote": {"cite"},
}
_URL_SCHEMES = {"http", "https", "mailto", "cid"}


def sanitize(html: str) -> str:
    """`html` reduced to the allow-list above; safe to render in a sandboxed iframe."""
    return nh3.clean(
        html,
        tags=_TAGS,
        clean_content_tags=_DROPPED_WITH_CONTENT,
        attributes=_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        url_relative="deny",
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def to_text(html: str) -> str:
    """The readable text of `html`; never raises on malformed markup."""
    reader = _TextReader()
    reader.feed(html)
    reader.close()
    return reader.text()


_PARAGRAPHS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul",
               "ol", "dl", "address"}
_LINES = {"br", "div", "li", "tr", "hr", "dt", "dd", "center", "caption", "section",
          "article", "header", "footer", "form", "tbody", "thead", "tfoot", "body"}
# Not "head": mail often leaves it unclosed, and what it holds besides these has no text.
_SKIPPED = {"script", "style", "title", "template"}
_SPACE = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n{3,}")


class _TextReader(HTMLParser):
    """Collects text; a block boundary adds one line break, a paragraph boundary two."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self._out = []
        self._skipping = []  # open tags whose content is skipped
        self._pre = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIPPED:
            self._skipping.append(tag)
            return
        if self._skipping:
            return
        if tag == "pre":
            self._pre += 1
        self._boundary(tag)
        if tag == "li":
            self._out.append("- ")
        elif tag in ("td", "th"):
            self._separate()

    def handle_endtag(self, tag):
        if tag in _SKIPPED:
            if tag in self._skipping:
                del self._skipping[self._skipping.index(tag):]
            return
        if self._skipping:
            return
        if tag == "pre" and self._pre:
            self._pre -= 1
        if tag != "br":  # </br> is read as <br> by browsers; the start handler saw it already
            self._boundary(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._skipping:
            return
        if not self._pre:
            data = _SPACE.sub(" ", data)
            if self._at_line_start() or self._tail().endswith(" "):
                data = data.lstrip(" ")
        if data:
            self._out.append(data)

    def text(self) -> str:
        joined = "".join(self._out)
        return _BLANK_LINES.sub("\n\n", joined).strip()

    def _boundary(self, tag):
        if tag in _PARAGRAPHS:
            self._newlines(2)
        elif tag in _LINES:
            self._newlines(1)

    def _newlines(self, count):
        self._trim_trailing_space()
        trailing = len(self._tail()) - len(self._tail().rstrip("\n"))
        if self._out and trailing < count:  # no line breaks before the first text
            self._out.append("\n" * (count - trailing))

    def _separate(self):
        if not self._at_line_start() and not self._tail().endswith(" "):
            self._out.append(" ")

    def _at_line_start(self) -> bool:
        return not self._out or self._tail().endswith("\n")

    def _trim_trailing_space(self):
        while self._out and not self._pre and self._out[-1].endswith(" "):
            self._out[-1] = self._out[-1].rstrip(" ")
            if not self._out[-1]:
                self._out.pop()

    def _tail(self) -> str:
        return self._out[-1] if self._out else ""
