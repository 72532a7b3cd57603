"""What grid_ui_bench asks Chromium over the DevTools protocol: the slow link, what went over the wire, tab memory.

The slow link is Chromium's own network emulation on the page's CDP session
(Network.emulateNetworkConditions, set before the page navigates). Chromium
applies `latency` once per request, between the request and its response's
headers (it is the request's round trip, not one way), and then holds the
response body to `downloadThroughput`; the bytes of a response already open
(the event stream) are held to the throughput only.
"""
from pathlib import Path

SLOW = {"offline": False, "latency": 300, "downloadThroughput": 250_000, "uploadThroughput": 125_000}
LINKS = ("lan", "slow")
ROWS_PATH = "/api/fundraising/rows"


def link(session, name: str) -> None:
    """Network domain on, and the slow link's conditions when `name` is "slow" (LAN: none)."""
    session.send("Network.enable")
    if name == "slow":
        session.send("Network.emulateNetworkConditions", SLOW)


class NetLog:
    """The requests one navigation made, from the page's Network events (CDP session, Network enabled)."""

    def __init__(self, session):
        self.reset()
        session.on("Network.requestWillBeSent", self._sent)
        session.on("Network.requestServedFromCache", self._cached)
        session.on("Network.responseReceived", self._response)
        session.on("Network.loadingFinished", self._finished)

    def reset(self) -> None:
        self.requests = {}   # requestId → {url, status, cached, bytes, done}

    def _sent(self, e) -> None:
        if e["request"]["url"].startswith(("http://", "https://")):
            self.requests.setdefault(e["requestId"], {"url": e["request"]["url"], "status": None, "cached": False,
                                                      "bytes": 0, "done": False})

    def _cached(self, e) -> None:
        if e["requestId"] in self.requests:
            self.requests[e["requestId"]]["cached"] = True

    def _response(self, e) -> None:
        r = self.requests.get(e["requestId"])
        if r is not None:
            r["status"] = e["response"]["status"]
            if e["response"].get("fromDiskCache") or e["response"].get("fromPrefetchCache"):
                r["cached"] = True

    def _finished(self, e) -> None:
        r = self.requests.get(e["requestId"])
        if r is not None:
            r["bytes"], r["done"] = e["encodedDataLength"], True

    def summary(self) -> dict:
        """requests, 304s, from cache (no request sent), bytes on the wire (headers included) in all and for rows."""
        rs = list(self.requests.values())
        rows = [r for r in rs if ROWS_PATH in r["url"]]
        return {"requests": len(rs), "revalidated": sum(r["status"] == 304 for r in rs),
                "from_cache": sum(r["cached"] and r["status"] != 304 for r in rs),
                "bytes": sum(r["bytes"] for r in rs), "rows_bytes": sum(r["bytes"] for r in rows),
                "rows_requests": len(rows)}


def renderer_pids(browser_session) -> list:
    """The browser's renderer processes (SystemInfo.getProcessInfo on a browser CDP session)."""
    info = browser_session.send("SystemInfo.getProcessInfo")["processInfo"]
    return [p["id"] for p in info if p["type"] == "renderer"]


def rss_bytes(pid: int) -> int:
    """Resident set size from /proc (0 when the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tab_memory(browser_session, page_session) -> dict:
    """The tab's memory with only its page open: the largest renderer's RSS (the page's; a spare renderer is
    small), all renderers' RSS, and the page's JS heap and DOM node count (Performance.getMetrics)."""
    page_session.send("Performance.enable")
    metrics = {m["name"]: m["value"] for m in page_session.send("Performance.getMetrics")["metrics"]}
    rss = sorted((rss_bytes(p) for p in renderer_pids(browser_session)), reverse=True)
    return {"renderer_rss": rss[0] if rss else 0, "renderers_rss": sum(rss), "renderers": len(rss),
            "js_heap_used": metrics.get("JSHeapUsedSize", 0), "js_heap_total": metrics.get("JSHeapTotalSize", 0),
            "dom_nodes": metrics.get("Nodes", 0)}
