"""Browser fixtures: Debian's Chromium driven by Playwright against the real server.

Playwright never downloads a browser here: it launches /usr/bin/chromium
(./test.sh installs it). Each test gets a fresh browser context (its own
sessionStorage), and page errors, failed requests and CSP violations fail it.
"""
import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


class Pages:
    """Opens pages in fresh contexts and records every console error and CSP report."""

    def __init__(self, browser, base_url):
        self.browser = browser
        self.base_url = base_url
        self.contexts = []
        self.problems = []

    def open(self, path="/", viewport=(1440, 900)):
        context = self.browser.new_context(base_url=self.base_url, viewport={"width": viewport[0], "height": viewport[1]})
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        page.goto(path)
        return page

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser, server):
    opened = Pages(browser, server.url)
    yield opened
    opened.close()
    # A CSP violation, an uncaught error or a failed module load is a bug even when the flow worked.
    # 401s are expected where a test signs out on purpose, so those are left to the tests.
    problems = [p for p in opened.problems if "401" not in p]
    assert not problems, problems
