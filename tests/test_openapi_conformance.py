"""The live API document, put to the test by schemathesis: every operation, signed in as an
admin, called with generated requests (valid ones and, for the error paths, invalid ones),
a bounded number of examples each. It fails on any 5xx, on a status the document does not
list, and on a response whose content type or body breaks the document.

Three operations are left out because calling them would end the run, not test it: the event
stream never ends (tests/test_grid_live.py covers it), and signing out or changing the
password would end the session every other call uses (tests/test_auth.py covers them).
"""
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)

from conftest import serving
from email_helpers import DOMAIN, capture_config
from fakes.google import COMPOSE, READONLY, FakeGoogle
from crm.http.routes import ROUTES
from crm.validation import Body

EXAMPLES = 12
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
LEFT_OUT = {("GET", "/api/fundraising/events"), ("POST", "/api/auth/logout"), ("POST", "/api/auth/change-password")}
OPERATIONS = [(r.method, r.path) for r in ROUTES if (r.method, r.path) not in LEFT_OUT]
# Invalid requests need something that can be invalid: a query parameter or a body with fields.
NEGATABLE = [(r.method, r.path) for r in ROUTES if (r.method, r.path) in OPERATIONS and (r.query or isinstance(r.body, Body))]
CASES = [(m, p, GenerationMode.POSITIVE) for m, p in OPERATIONS] + [(m, p, GenerationMode.NEGATIVE) for m, p in NEGATABLE]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A server with a little of everything, so generated requests meet real records too; Gmail
    capture is on, against the stand-in Google, so the /api/email routes answer for real, and the
    admin's mailbox may send (gmail.compose), so the digest's sending routes do too."""
    data = tmp_path_factory.mktemp("conformance")
    with FakeGoogle() as google:
        google.write_key_file(data / "sa.json")
        with serving(data, seed_demo_data=True, **capture_config(google, data / "sa.json")) as server:
            admin = server.register_admin()
            google.grant("admin@" + DOMAIN, [READONLY, COMPOSE])
            r = admin.post("/api/fundraising/backup", {"kind": "grid"})
            assert r.status_code == 201, r.text
            assert admin.post("/api/email/accounts/enroll-all").status_code == 200
            yield server, admin


@pytest.fixture(scope="module")
def api_schema(live):
    """The document as the server serves it, read by schemathesis."""
    server, admin = live
    document = requests.get(server.url + "/api/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(document)
    schema.config.update(base_url=server.url, headers={"Authorization": f"Bearer {admin.token}"})
    return schema


# Driven through hypothesis directly (schemathesis' pytest plugin does not load under pytest 9):
# one test per route of the table and generation mode.
@pytest.mark.parametrize("method, path, mode", CASES, ids=[f"{m} {p} {mode.value}" for m, p, mode in CASES])
def test_every_operation_keeps_to_the_document(api_schema, method, path, mode):
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def calls_keep_to_it(case):
        response = case.call(timeout=60)
        case.validate_response(response, checks=CHECKS)

    calls_keep_to_it()
