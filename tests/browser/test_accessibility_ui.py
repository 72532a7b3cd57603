"""Every page of the browser app, checked by axe-core (pinned in frontend/package.json, served from
node_modules like the app's own packages): no serious or critical violation, as an admin sees it
with some data in it. The signed-out pages are checked too."""
import json

import pytest

from .browser_helpers import OUTPUT, seed_grid, sign_in

AXE = "/node_modules/axe-core/axe.min.js"
SIGNED_IN = ["/", "/contacts", "/contacts/{contact}", "/organizations", "/organizations/{organization}", "/pipeline",
             "/opportunities/{opportunity}", "/reports", "/communications", "/email-capture", "/feature-requests",
             "/settings/me", "/settings/users", "/settings/digest", "/settings/backups", "/settings/gmail", "/settings/search-index",
             "/settings/security", "/settings/audit", "/settings/reset", "/account"]


def serious(page) -> list:
    page.add_script_tag(url=AXE)
    found = page.evaluate("""async () => {
        const result = await axe.run(document, { resultTypes: ["violations"] });
        return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
            .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
    }""")
    return found


@pytest.fixture
def records(admin):
    seed_grid(admin, rows=12)
    org = admin.post("/api/organizations", {"name": "Horsley Bridge", "type": "fund_of_funds"}).json()["data"]
    contact = admin.post("/api/contacts", {"first_name": "Maya", "last_name": "Chen", "email": "maya@horsley.example",
                                           "organization_id": org["id"]}).json()["data"]
    deal = admin.post("/api/opportunities", {"contact_id": contact["id"], "fund_name": "Fund IV", "stage": "meeting",
                                             "expected_amount": 5_000_000}).json()["data"]
    return {"contact": contact["id"], "organization": org["id"], "opportunity": deal["id"]}


def test_the_signed_out_pages_have_no_serious_violation(pages, server):
    page = pages.open("/setup")
    page.get_by_role("button", name="Create admin").wait_for()
    assert serious(page) == [], "setup"
    server.register_admin()
    page = pages.open("/login")
    page.get_by_role("button", name="Sign in").wait_for()
    assert serious(page) == [], "login"


@pytest.mark.parametrize("path", SIGNED_IN)
def test_a_signed_in_page_has_no_serious_violation(pages, records, path):
    page = pages.open("/")
    sign_in(page)
    target = path.format(**records)
    page.evaluate("path => { history.pushState(null, '', path); dispatchEvent(new PopStateEvent('popstate')); }", target)
    page.wait_for_function("() => !document.documentElement.hasAttribute('data-busy')"
                           " && document.querySelector('main .page')?.childElementCount > 0")
    page.wait_for_timeout(200)  # a page's second request, if any, has started and ended
    page.wait_for_function("() => !document.documentElement.hasAttribute('data-busy')")
    assert page.evaluate("location.pathname + location.search") == target, f"{target} is not a page of the app"
    found = serious(page)
    if found:
        page.screenshot(path=str(OUTPUT / f"axe-{target.strip('/').replace('/', '-') or 'grid'}.png"))
    assert found == [], json.dumps(found, indent=1)
