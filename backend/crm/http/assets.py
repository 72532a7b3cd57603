"""Content-hashed URLs for the front end's files, without a bundler.

The browser should revalidate nothing but index.html on a repeat visit. So
every local reference the front end makes is served rewritten to carry a
version, `/pages/grid.js?v=<hash>`, and a URL whose `v` is the file's current
version is cached for a year as immutable (static.py decides the headers).

What is rewritten, in the bytes served (the files on disk stay as written):
- JS modules (.js, .mjs): the string-literal specifiers of `import ... from`,
  `export ... from`, `import "x"` and `import("x")`. Only relative (`./`,
  `../`) and root (`/...`) specifiers naming a file under the root are
  touched (a bare `"pkg"` is a package name, and one already carrying a
  query is left as written); a computed `import(name)` cannot be versioned (the front end has
  none: lazily loaded pages name their module literally).
- CSS: `url(...)` and `@import "..."` references.
- HTML: `src=` and `href=` attributes naming local files, and the marker
  `<!-- modulepreload -->`, replaced by a `<link rel="modulepreload">` for
  every module the page's module scripts and hand-written modulepreloads
  import statically, transitively: the module scripts' own first, so they
  run soonest, then the rest; largest first within each (on a slow link the
  big downloads start at once). A module reached only through `import()` is left
  out, unless the page names it in a modulepreload of its own.

A file's version is a hash over its own bytes and those of every file it
reaches (static and dynamic imports, url()s), so changing a leaf changes the
URL of every module that leads to it, and only those: its rewritten body names
the new URLs. Parses are kept per file and redone when its mtime or size
changes; versions are worked out afresh per call (a few dozen stats), so an
edited file is seen on the next request, as before.
"""
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

VERSION_CHARS = 16
JS_REFS = [
    ("static", re.compile(r"""\bfrom\s*(["'])([^"'\n]+)\1""")),
    ("static", re.compile(r"""\bimport\s*(["'])([^"'\n]+)\1""")),
    ("dynamic", re.compile(r"""\bimport\s*\(\s*(["'])([^"'\n]+)\1\s*\)""")),
]
CSS_REFS = [
    ("asset", re.compile(r"""\burl\(\s*(["']?)([^"')\s]+)\1\s*\)""")),
    ("asset", re.compile(r"""@import\s+(["'])([^"'\n]+)\1""")),
]
HTML_REFS = [("asset", re.compile(r"""\b(?:src|href)\s*=\s*(["']?)([^"'\s>]+)\1"""))]
MODULE_TAGS = [
    re.compile(r"""<script\b[^>]*\btype\s*=\s*["']?module["']?[^>]*\bsrc\s*=\s*["']?([^"'\s>]+)"""),
    re.compile(r"""<link\b[^>]*\brel\s*=\s*["']?modulepreload["']?[^>]*\bhref\s*=\s*["']?([^"'\s>]+)"""),
]
PRELOAD_MARKER = b"<!-- modulepreload -->"
REFS_BY_SUFFIX = {".js": JS_REFS, ".mjs": JS_REFS, ".css": CSS_REFS, ".html": HTML_REFS}


@dataclass(frozen=True)
class Ref:
    start: int      # the specifier's span in the file's bytes
    end: int
    kind: str       # static | dynamic | asset
    target: Path


@dataclass(frozen=True)
class Parsed:
    stamp: tuple    # (mtime_ns, size) it was read at
    url: str
    raw: bytes
    digest: str
    refs: tuple


def _local(spec: str, kind: str) -> bool:
    """A reference to our own files: JS's bare specifiers are packages, CSS's and HTML's plain paths are relative."""
    if spec.startswith(("//", "#")) or ":" in spec:
        return False  # another host, a fragment, or a scheme (data:, https:, mailto:)
    return kind == "asset" or spec.startswith(("./", "../", "/"))


class Assets:
    def __init__(self, root: Path, resolve):
        """`resolve(url_path)` is StaticFiles.resolve: a file under the root, or None."""
        self.root = root
        self.resolve = resolve
        self._parsed = {}

    def url_of(self, path: Path) -> str:
        return "/" + path.relative_to(self.root).as_posix()

    def parse(self, path: Path) -> Parsed:
        stat = os.stat(path)
        stamp = (stat.st_mtime_ns, stat.st_size)
        known = self._parsed.get(path)
        if known and known.stamp == stamp:
            return known
        raw = path.read_bytes()
        refs = tuple(sorted(self._refs(path, raw), key=lambda ref: ref.start))
        parsed = Parsed(stamp, self.url_of(path), raw, hashlib.sha256(raw).hexdigest(), refs)
        self._parsed[path] = parsed
        return parsed

    def _refs(self, path: Path, raw: bytes):
        patterns = REFS_BY_SUFFIX.get(path.suffix)
        if not patterns:
            return
        text = raw.decode("latin-1")  # one char per byte, so spans are byte offsets
        base = self.url_of(path)
        seen = set()
        for kind, pattern in patterns:
            for match in pattern.finditer(text):
                spec = match.group(2)
                if match.start(2) in seen or not _local(spec, kind):
                    continue
                if "?" in spec or "#" in spec:
                    continue  # already carries a query of its own: leave it alone
                target = self.resolve(urlsplit(urljoin(base, spec)).path)
                if target is not None and target != path:
                    seen.add(match.start(2))
                    yield Ref(match.start(2), match.end(2), kind, target)

    def _parse_once(self, path: Path, memo: dict) -> Parsed:
        """parse(), with one stat per file per request however often the walks below meet it."""
        key = ("parsed", path)
        if key not in memo:
            memo[key] = self.parse(path)
        return memo[key]

    def version(self, path: Path, memo: dict = None) -> str:
        """A hash over the bytes of `path` and of every file it reaches."""
        memo = {} if memo is None else memo
        if path not in memo:
            reached, todo = {}, [path]
            while todo:
                node = todo.pop()
                if node in reached:
                    continue
                parsed = self._parse_once(node, memo)
                reached[node] = f"{parsed.url} {parsed.digest}"
                todo.extend(ref.target for ref in parsed.refs)
            summary = "\n".join(sorted(reached.values()))
            memo[path] = hashlib.sha256(summary.encode()).hexdigest()[:VERSION_CHARS]
        return memo[path]

    def versioned_url(self, path: Path, memo: dict = None) -> str:
        memo = {} if memo is None else memo
        return f"{self._parse_once(path, memo).url}?v={self.version(path, memo)}"

    def static_closure(self, entries, memo: dict = None) -> list:
        """Every module the entries import statically, transitively (entries included)."""
        memo = {} if memo is None else memo
        found, todo = [], list(entries)
        while todo:
            node = todo.pop(0)
            if node in found:
                continue
            found.append(node)
            todo.extend(ref.target for ref in self._parse_once(node, memo).refs if ref.kind == "static")
        return found

    def render(self, path: Path) -> tuple:
        """(key, bytes, version): the file as served. The key changes whenever the bytes or version would."""
        memo = {}
        parsed = self._parse_once(path, memo)
        versions = tuple(self.version(ref.target, memo) for ref in parsed.refs)
        preload = b""
        if path.suffix == ".html" and PRELOAD_MARKER in parsed.raw:
            preload = self._preload_links(parsed.raw, path, memo)
        key = (parsed.stamp, versions, hashlib.sha256(preload).hexdigest() if preload else "")
        version = self.version(path, memo)
        if not parsed.refs and not preload:
            return key, parsed.raw, version
        pieces, at = [], 0
        for ref, ref_version in zip(parsed.refs, versions):
            pieces += [parsed.raw[at:ref.end], f"?v={ref_version}".encode()]
            at = ref.end
        pieces.append(parsed.raw[at:])
        body = b"".join(pieces)
        if preload:
            body = body.replace(PRELOAD_MARKER, preload, 1)
        return key, body, version

    def _preload_links(self, html: bytes, path: Path, memo: dict) -> bytes:
        text = html.decode("utf-8", "replace")
        base = self.url_of(path)
        scripts, preloads = ([self.resolve(urlsplit(urljoin(base, m.group(1))).path) for m in pattern.finditer(text)]
                             for pattern in MODULE_TAGS)
        entries = [m for m in scripts + preloads if m is not None]  # already asked for by the page itself
        size = lambda m: -len(self._parse_once(m, memo).raw)  # noqa: E731
        # What the module scripts need comes first, so they run (and start their API calls) soonest;
        # within each group, largest first, so the big downloads start at once.
        first = sorted((m for m in self.static_closure([m for m in scripts if m], memo) if m not in entries), key=size)
        rest = sorted((m for m in self.static_closure(entries, memo) if m not in entries and m not in first), key=size)
        modules = first + rest
        lines = [f'<link rel="modulepreload" href="{self.versioned_url(m, memo)}">' for m in modules]
        return "\n  ".join(lines).encode()
