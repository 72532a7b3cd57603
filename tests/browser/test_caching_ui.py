"""The SPA over its versioned URLs: a repeat visit asks the server for nothing but the page and the
API, pages other than the grid load on demand, and the files arrive gzipped."""
from .browser_helpers import seed_grid, sign_in


class Network:
    """The CDP Network events of one page: every request, whether it came from the cache, its status."""

    def __init__(self, page):
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.seen = {}
        self.cdp.on("Network.requestWillBeSent", lambda e: self.seen.setdefault(e["requestId"], {"url": e["request"]["url"]}))
        self.cdp.on("Network.responseReceived", self._response)
        self.cdp.on("Network.requestServedFromCache", lambda e: self.seen.setdefault(e["requestId"], {}).update(cache=True))

    def _response(self, event):
        response = event["response"]
        entry = self.seen.setdefault(event["requestId"], {"url": response["url"]})
        entry.update(status=response["status"], encoding=response["headers"].get("content-encoding", response["headers"].get("Content-Encoding")))
        if response.get("fromDiskCache") or response.get("fromMemoryCache"):
            entry["cache"] = True

    def static(self, base):
        """Static files asked of the server (not from the browser's cache): [(path, status)]."""
        out = []
        for entry in self.seen.values():
            url = entry.get("url", "")
            if url.startswith(base) and "/api/" not in url and not entry.get("cache"):
                out.append((url[len(base):], entry.get("status")))
        return out


def test_a_repeat_visit_revalidates_only_the_page(pages, server, admin):
    seed_grid(admin, rows=20)
    page = pages.open("/login")
    sign_in(page)
    network = Network(page)
    page.goto("/?first=1")
    page.wait_for_selector("#grid .tabulator-row")
    first = network.static(server.url)
    # The cold path is already covered by the sign-in above; what is asked now came from no cache or was cached.
    network.seen.clear()
    page.goto("/?again=1")
    page.wait_for_selector("#grid .tabulator-row")
    again = network.static(server.url)
    assert [path for path, _ in again] == ["/?again=1"], (again, first)
    # Each module on the first visit came with an immutable versioned URL.
    assert all("?v=" in path for path, _ in first if path.split("?")[0] not in ("/",)), first


def test_other_pages_load_on_demand_and_files_arrive_gzipped(pages, server, admin):
    page = pages.open("/login")
    network = Network(page)
    network.cdp.send("Network.clearBrowserCache")  # so that what follows is a first visit, watched
    page.goto("/login?cold=1")
    sign_in(page)
    base = server.url
    asked = {entry["url"][len(base):].split("?")[0]: entry for entry in network.seen.values() if entry.get("url", "").startswith(base)}
    assert "/pages/grid.js" in asked and "/pages/contacts.js" not in asked  # not before it is opened or prefetched
    assert asked["/widgets/tabulator.js"].get("encoding") == "gzip"
    assert asked["/node_modules/tabulator-tables/dist/js/tabulator_esm.min.mjs"].get("encoding") == "gzip"
    page.locator(".sidebar a", has_text="Contacts").click()
    page.wait_for_url("**/contacts")
    page.get_by_role("heading", name="Contacts").first.wait_for()
    assert any("/pages/contacts.js?v=" in e.get("url", "") for e in network.seen.values())
    # Once the first page is up and the browser idle, the other pages are fetched too.
    page.wait_for_function("() => performance.getEntriesByType('resource').some((e) => e.name.includes('/pages/settings.js?v='))",
                           timeout=15_000)
    page.locator(".sidebar a", has_text="Settings").click()
    page.wait_for_url("**/settings")
    assert "Settings" in page.title()
