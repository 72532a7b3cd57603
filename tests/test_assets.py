"""Versioned URLs (backend/crm/http/assets.py): every local reference the front end makes carries
`?v=<hash>`, those URLs are cached as immutable, a hash covers what a file reaches, and index.html
preloads the modules of its entry points from the import graph."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "frontend"
IMMUTABLE = "public, max-age=31536000, immutable"
VERSIONED = re.compile(r"""(?:from\s*|import\s*\(?\s*|(?:src|href)=)["']([^"']+\?v=[0-9a-f]{16})["']""")
# A local specifier left without its version.
LOCAL_SPEC = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}/[^"'?]+|/[^/"'?][^"'?]*)["']""")


def disk_graph(entries, dynamic=False) -> set:
    """Module URLs reached from `entries` by reading the files on disk (the test's own parser)."""
    pattern = r"""(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\("([^"]+)"\)""" if dynamic else \
        r"""(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)\""""
    found, todo = set(), list(entries)
    while todo:
        url = todo.pop()
        if url in found:
            continue
        found.add(url)
        path = ROOT / url.lstrip("/")
        for match in re.finditer(pattern, path.read_text()):
            spec = next(g for g in (match.groups() if dynamic else (match.group(1),)) if g)
            todo.append(spec if spec.startswith("/") else "/" + (path.parent / spec).resolve().relative_to(ROOT).as_posix())
    return found


def test_the_spa_preloads_the_static_graph_of_app_js_and_the_grid(server):
    """A module added to the graph is preloaded without anyone editing index.html."""
    client = server.client()
    page = client.get("/")
    assert page.headers["Cache-Control"] == "no-cache"
    html = page.text
    preloads = re.findall(r'<link rel="modulepreload" href="([^"?]+)\?v=([0-9a-f]{16})">', html)
    expected = disk_graph(["/app.js", "/pages/grid.js"])
    assert len(expected) > 15 and "/widgets/tabulator.js" in expected and "/pages/contacts.js" not in expected
    assert sorted(url for url, _ in preloads) == sorted(expected - {"/app.js"})
    assert "<!-- modulepreload -->" not in html
    assert re.search(r'<script type="module" src="/app.js\?v=[0-9a-f]{16}"></script>', html)
    # Every preload names the version the module itself is imported with, and that URL is immutable.
    for url, version in preloads:
        r = client.get(f"{url}?v={version}")
        assert r.status_code == 200 and r.headers["Cache-Control"] == IMMUTABLE, url


def test_every_local_reference_served_is_versioned_and_immutable(server):
    """A crawl from index.html through every served body: no local URL without ?v=, none that is not immutable,
    and every page module (imported with import()) is reached."""
    client = server.client()
    seen, todo = set(), [u for u in VERSIONED.findall(client.get("/").text)]
    assert any("/favicon.svg?v=" in u for u in todo) and any("tabulator.min.css?v=" in u for u in todo)
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        r = client.get(url)
        assert r.status_code == 200 and r.headers["Cache-Control"] == IMMUTABLE, url
        if url.split("?")[0].endswith((".js", ".mjs")):
            base = url.split("?")[0]
            assert not LOCAL_SPEC.findall(r.text), (url, LOCAL_SPEC.findall(r.text)[:3])
            for spec in VERSIONED.findall(r.text):
                todo.append(spec if spec.startswith("/") else "/" + str(Path(base).parent.joinpath(spec)).lstrip("/"))
    every_module = disk_graph(["/app.js"], dynamic=True)
    assert "/pages/contacts.js" in every_module and "/pages/settings_admin.js" in every_module
    assert every_module <= _normalise(seen)


def _normalise(urls) -> set:
    out = set()
    for url in urls:
        parts = []
        for part in url.split("?")[0].split("/"):
            if part == "..":
                parts.pop()
            elif part not in (".", ""):
                parts.append(part)
        out.add("/" + "/".join(parts))
    return out


@pytest.fixture
def site(tmp_path, make_server):
    frontend = tmp_path / "frontend"
    (frontend / "lib").mkdir(parents=True)
    files = {
        "index.html": '<!doctype html><link rel="stylesheet" href="/app.css"><!-- modulepreload -->'
                      '<script type="module" src="/a.js"></script>',
        "a.js": 'import { b } from "./lib/b.js";\nimport "/d.js";\nexport const lazy = () => import("./e.js");\n'
                'import { nothing } from "./missing.js";\nimport x from "some-package";\nimport y from "./d.js?already=1";\n',
        "lib/b.js": 'export { c } from "./c.js";\nexport const b = 1;\n',
        "lib/c.js": "export const c = 1;\n",
        "d.js": "export default 1;\n",
        "e.js": 'import { c } from "./lib/c.js";\nexport const e = c;\n',
        "x.js": 'import "./y.js";\nexport const x = 1;\n',    # x and y import each other
        "y.js": 'import "./x.js";\nexport const y = 1;\n',
        "app.css": 'body { background: url("/img/bg.svg") } .i { background: url(img/icon.svg) } .n { background: url(data:x) }\n',
        "img/bg.svg": "<svg/>",
        "img/icon.svg": "<svg></svg>",
    }
    (frontend / "img").mkdir()
    for name, text in files.items():
        (frontend / name).write_text(text)
    server = make_server(frontend_dir=frontend)
    server.frontend = frontend
    return server


def test_rewriting_in_a_small_site(site):
    client = site.client()
    a = client.get("/a.js").text
    assert re.search(r'from "\./lib/b\.js\?v=[0-9a-f]{16}"', a)
    assert re.search(r'import "/d\.js\?v=[0-9a-f]{16}"', a)
    assert re.search(r'import\("\./e\.js\?v=[0-9a-f]{16}"\)', a)  # dynamic imports too
    for untouched in ('"./missing.js"', '"some-package"', '"./d.js?already=1"'):
        assert untouched in a
    css = client.get("/app.css").text
    assert re.search(r'url\("/img/bg\.svg\?v=[0-9a-f]{16}"\)', css) and re.search(r"url\(img/icon\.svg\?v=[0-9a-f]{16}\)", css)
    assert "url(data:x)" in css
    html = client.get("/").text
    # The preload list: a's static imports, transitively (b, c, d), not a itself, not e (reached only by import()).
    preloaded = re.findall(r'<link rel="modulepreload" href="([^"?]+)\?v=', html)
    assert sorted(preloaded) == ["/d.js", "/lib/b.js", "/lib/c.js"]
    assert re.search(r'href="/app\.css\?v=[0-9a-f]{16}"', html)


def served_version(client, importer, url):
    body = client.get(importer).text
    return re.search(re.escape(url) + r"\?v=([0-9a-f]{16})", body).group(1)


def test_changing_a_leaf_changes_the_url_of_everything_that_leads_to_it(site):
    client = site.client()
    before = {
        "c from b": served_version(client, "/lib/b.js", "./c.js"),
        "b from a": served_version(client, "/a.js", "./lib/b.js"),
        "e from a": served_version(client, "/a.js", "./e.js"),
        "a from index": served_version(client, "/", "/a.js"),
        "d from a": served_version(client, "/a.js", "/d.js"),
    }
    old_a = f"/a.js?v={before['a from index']}"
    assert client.get(old_a).headers["Cache-Control"] == IMMUTABLE
    (site.frontend / "lib" / "c.js").write_text("export const c = 2;  // changed\n")
    after = {
        "c from b": served_version(client, "/lib/b.js", "./c.js"),
        "b from a": served_version(client, "/a.js", "./lib/b.js"),
        "e from a": served_version(client, "/a.js", "./e.js"),
        "a from index": served_version(client, "/", "/a.js"),
        "d from a": served_version(client, "/a.js", "/d.js"),
    }
    for name in ("c from b", "b from a", "e from a", "a from index"):
        assert after[name] != before[name], name
    assert after["d from a"] == before["d from a"]  # d reaches nothing that changed
    # The old URL is no longer immutable: its current bytes, revalidated every time.
    stale = client.get(old_a)
    assert stale.status_code == 200 and stale.headers["Cache-Control"] == "no-cache"
    assert f"./lib/b.js?v={after['b from a']}" in stale.text
    current = client.get(f"/a.js?v={after['a from index']}")
    assert current.headers["Cache-Control"] == IMMUTABLE and current.text == stale.text


def test_an_import_cycle_has_versions_and_either_change_moves_both(site):
    client = site.client()
    y_from_x = served_version(client, "/x.js", "./y.js")
    x_from_y = served_version(client, "/y.js", "./x.js")
    (site.frontend / "y.js").write_text('import "./x.js";\nexport const y = 2;\n')
    assert served_version(client, "/x.js", "./y.js") != y_from_x
    assert served_version(client, "/y.js", "./x.js") != x_from_y


@pytest.mark.parametrize("query", ["", "v=0000000000000000", "v=", "other=1"])
def test_a_url_without_the_current_version_is_not_immutable(site, query):
    r = site.client().get(f"/lib/c.js?{query}")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-cache"
    assert r.text == "export const c = 1;\n"


def test_the_page_itself_is_never_immutable(site):
    client = site.client()
    r = client.get("/")
    etag = r.headers["ETag"]
    assert r.headers["Cache-Control"] == "no-cache"
    assert client.get("/", headers={"If-None-Match": etag}).status_code == 304
    # A change anywhere below it changes the page (it names the new URLs), so its ETag moves.
    (site.frontend / "lib" / "c.js").write_text("export const c = 3;\n")
    again = client.get("/", headers={"If-None-Match": etag})
    assert again.status_code == 200 and again.headers["ETag"] != etag
