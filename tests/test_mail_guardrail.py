"""Agents draft; humans send (issue 17, "The guardrail"). The digest mailer (crm.digest.mailer) is
the only code path that sends mail, and it refuses every recipient who is not an active admin:
proved here against a real SMTP server (aiosmtpd on 127.0.0.1, STARTTLS or TLS with a test
certificate the client is made to trust) and the stand-in Google (tests/fakes/google.py), by
parsing every module for other ways to send, and by calling every route."""
import ast
import email
import logging
import threading
from dataclasses import replace
from email import policy

import pytest

from conftest import serving
from crm import config as crm_config
from crm.digest import mailer
from crm.digest.mailer import MailError, RecipientRefused
from crm.http.routes import ROUTES
from email_helpers import DOMAIN, capture_config, eventually, mail
from fakes.google import COMPOSE, READONLY, FakeGoogle
from smtp_helpers import SENDER, SMTP_LOGIN, SMTP_PASSWORD, certificate, free_port, smtp, smtp_settings, trusted  # noqa: F401
from test_email_capture import add_investor, enroll, sync
from test_layout import CRM, imports_of, module_name, parse_modules

ADMIN, MEMBER, FORMER = f"admin@{DOMAIN}", f"maria@{DOMAIN}", f"olga@{DOMAIN}"
LP = "jane@acme.example"  # a grid contact of the investor "Acme LP"
# aiosmtpd warns when it offers AUTH over implicit TLS, which it cannot see (the stand-in's limit, not ours).
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


# -- one server with admins, a member, a former admin and an investor ---------------------------------

@pytest.fixture(scope="module")
def google():
    with FakeGoogle() as fake:
        yield fake


@pytest.fixture(scope="module")
def server(google, tmp_path_factory):
    """Capture on against the stand-in, an active admin (Gmail may send as them), a member (Gmail
    may only read), a deactivated admin and the investor Acme LP with its contact Jane Doe. Tests
    call the mailer with this server's config, changed where they need (`settings`)."""
    data = tmp_path_factory.mktemp("guardrail")
    google.write_key_file(data / "service-account.json")
    with serving(data, **capture_config(google, data / "service-account.json")) as running:
        admin = running.register_admin()
        running.add_user(admin, "maria")
        former = running.add_user(admin, "olga", role="admin")
        r = admin.patch(f"/api/admin/users/{former.user['id']}", {"is_active": False})
        assert r.status_code == 200, r.text
        add_investor(admin, "Acme LP", ("Jane Doe", LP))
        google.grant(ADMIN, [READONLY, COMPOSE])
        google.grant(MEMBER, [READONLY])
        running.app.email.backoff_base = 0.01  # Gmail retries wait milliseconds
        yield running


@pytest.fixture
def gmail_sent(google):
    """What Gmail sent during the test (the stand-in is the module's)."""
    before = len(google.sent)
    return lambda: google.sent[before:]


def settings(server, **changes):
    return replace(server.config, **changes)


def send(server, recipients, config=None, **kwargs):
    conn = server.app.pool.acquire()
    try:
        return mailer.send_internal(conn, config or server.config, recipients, "Evening digest",
                                    "Three new notes today.", **kwargs)
    finally:
        server.app.pool.release(conn)


# -- what arrives ----------------------------------------------------------------------------------

def test_mail_to_an_active_admin_arrives_over_starttls_after_signing_in(server, smtp, trusted):
    inbox, port = smtp()
    transport = send(server, ["Admin@Fund.Example"], settings(server, **smtp_settings(port)),
                     html="<p>Three new notes today.</p>")
    assert transport == "smtp"
    assert inbox.logins == [SMTP_LOGIN]
    [envelope] = inbox.envelopes
    assert (envelope.mail_from, envelope.rcpt_tos) == (f"digest@{DOMAIN}", [ADMIN])
    [message] = inbox.messages()
    assert [a.addr_spec for a in message["To"].addresses] == [ADMIN] and message["Cc"] is None
    assert message["From"].addresses[0].addr_spec == f"digest@{DOMAIN}" and message["Subject"] == "Evening digest"
    assert message["Auto-Submitted"] == "auto-generated"  # so our own capture skips it as bulk mail
    assert message.get_body(("plain",)).get_content().strip() == "Three new notes today."
    assert "<p>" in message.get_body(("html",)).get_content()


def test_implicit_tls_works_too(server, smtp, trusted):
    inbox, port = smtp("tls")
    assert send(server, [ADMIN], settings(server, **smtp_settings(port, "tls"))) == "smtp"
    assert [e.rcpt_tos for e in inbox.envelopes] == [[ADMIN]]


# -- what is refused, at the mailer ------------------------------------------------------------------

REFUSED = [
    ("an investor's address", [LP], [LP]),
    ("a member", [MEMBER], [MEMBER]),
    ("a deactivated admin", [FORMER], [FORMER]),
    ("an admin with an investor: all or nothing", [ADMIN, LP], [LP]),
    ("an address nobody has", ["someone@elsewhere.example"], ["someone@elsewhere.example"]),
    ("a list smuggled into one recipient", [f"{ADMIN}, {LP}"], [f"{ADMIN}, {LP}"]),
    ("a display name riding along", [f"Jane <{LP}>"], [f"jane <{LP}>"]),
]


@pytest.mark.parametrize("recipients, refused", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_anyone_but_an_active_admin_is_refused_and_nothing_is_sent_by_either_transport(
        server, smtp, trusted, google, gmail_sent, recipients, refused):
    inbox, port = smtp()
    tokens_before = len(google.token_requests)
    with pytest.raises(RecipientRefused) as raised:  # Gmail could send as the admin, SMTP is there too
        send(server, recipients, settings(server, **smtp_settings(port)), gmail=server.app.email)
    assert raised.value.refused == refused
    assert all(address in raised.value.message for address in refused)
    assert inbox.envelopes == [] and gmail_sent() == []
    assert google.token_requests[tokens_before:] == []  # not even a token was asked for


def test_no_recipients_is_an_error_not_a_send(server, smtp, trusted):
    inbox, port = smtp()
    with pytest.raises(MailError, match="no recipients"):
        send(server, [], settings(server, **smtp_settings(port)))
    assert inbox.envelopes == []


# -- the Gmail transport ---------------------------------------------------------------------------

def test_with_capture_on_it_sends_through_gmail_as_the_first_active_admin(server, smtp, trusted, google, gmail_sent):
    inbox, port = smtp()
    assert send(server, [ADMIN], settings(server, **smtp_settings(port)), gmail=server.app.email) == "gmail"
    [sent] = gmail_sent()
    assert sent["user"] == ADMIN and inbox.envelopes == [] and google.drafts == []
    message = email.message_from_bytes(sent["raw"], policy=policy.default)
    assert [a.addr_spec for a in message["To"].addresses] == [ADMIN] and message["Cc"] is None and message["Bcc"] is None
    assert message["From"].addresses[0].addr_spec == ADMIN
    assert {"sub": ADMIN, "scope": COMPOSE} in [{k: t[k] for k in ("sub", "scope")} for t in google.token_requests]


def test_crm_digest_sender_names_whom_gmail_sends_as(server, google, gmail_sent):
    google.grant(f"digest@{DOMAIN}", [COMPOSE])
    assert send(server, [ADMIN], settings(server, digest_sender=f"digest@{DOMAIN}"), gmail=server.app.email) == "gmail"
    assert [s["user"] for s in gmail_sent()] == [f"digest@{DOMAIN}"]


def test_without_the_compose_grant_gmail_gives_way_to_smtp(server, smtp, trusted, gmail_sent):
    inbox, port = smtp()
    config = settings(server, digest_sender=MEMBER, **smtp_settings(port))  # Gmail may only read as Maria
    assert send(server, [ADMIN], config, gmail=server.app.email) == "smtp"
    assert gmail_sent() == [] and [e.rcpt_tos for e in inbox.envelopes] == [[ADMIN]]


def test_without_the_compose_grant_and_without_smtp_it_says_so(server, gmail_sent):
    with pytest.raises(MailError, match="delegation not granted for scope gmail.compose.*SMTP_HOST is not set"):
        send(server, [ADMIN], settings(server, digest_sender=MEMBER), gmail=server.app.email)
    assert gmail_sent() == []


def test_a_gmail_failure_is_not_sent_again_by_smtp(server, smtp, trusted, google, gmail_sent):
    inbox, port = smtp()
    google.fail("/messages/send", 503, times=server.config.gmail_retry_max + 1)
    with pytest.raises(MailError, match="Gmail did not send the mail"):
        send(server, [ADMIN], settings(server, **smtp_settings(port)), gmail=server.app.email)
    assert gmail_sent() == [] and inbox.envelopes == []  # it may have gone: twice would be worse than late


def test_with_neither_transport_it_says_so(server):
    with pytest.raises(MailError, match="capture is off and SMTP_HOST is not set"):
        send(server, [ADMIN])


# -- failures, in words, without credentials ---------------------------------------------------------

FAILURES = [
    ("a wrong password", dict(password="wrong-password-not-for-logs"), "refused the sign-in"),
    ("a certificate not trusted", dict(trust=False), "TLS failed"),
    ("nothing listening", dict(closed=True), "could not reach it"),
    ("no STARTTLS offered", dict(starttls=False), "does not offer STARTTLS"),
]


@pytest.mark.parametrize("how, expected", [c[1:] for c in FAILURES], ids=[c[0] for c in FAILURES])
def test_a_send_failure_is_one_mail_error_in_words_and_no_credential_is_logged(
        server, smtp, certificate, monkeypatch, caplog, how, expected):
    inbox, port = smtp(starttls=how.get("starttls", True))
    trusted_file = certificate[0] if how.get("trust", True) else certificate[0].with_name("nothing.pem")
    monkeypatch.setenv("SSL_CERT_FILE", str(trusted_file))
    config = settings(server, **smtp_settings(free_port() if how.get("closed") else port,
                                              password=how.get("password", SMTP_PASSWORD)))
    with caplog.at_level(logging.DEBUG, logger="crm"):
        with pytest.raises(MailError, match=expected) as raised:
            send(server, [ADMIN], config)
    assert inbox.envelopes == []
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("crm"))
    assert expected in ours
    for secret in (SMTP_PASSWORD, "wrong-password-not-for-logs", "Three new notes"):
        assert secret not in ours and secret not in raised.value.message


# -- the settings ----------------------------------------------------------------------------------

def test_the_smtp_settings_are_read_from_the_names_the_container_exports(tmp_path):
    environ = {"SMTP_HOST": "smtp.fund.example", "SMTP_SECURITY": "tls", "SMTP_USER": SMTP_LOGIN,
               "SMTP_PASS": SMTP_PASSWORD, "SMTP_FROM": SENDER, "CRM_DIGEST_SENDER": f"digest@{DOMAIN}"}
    config = crm_config.load(environ=environ, data_dir=tmp_path)
    assert (config.smtp_host, config.smtp_port, config.smtp_security, config.smtp_from, config.digest_sender) == \
        ("smtp.fund.example", 465, "tls", SENDER, f"digest@{DOMAIN}")
    assert SMTP_PASSWORD not in repr(config)
    assert crm_config.load(environ={"SMTP_HOST": "h", "SMTP_FROM": SENDER}, data_dir=tmp_path).smtp_port == 587


@pytest.mark.parametrize("environ, words", [
    ({"SMTP_SECURITY": "ssl"}, "SMTP_SECURITY must be starttls, tls or none"),
    ({"SMTP_HOST": "h", "SMTP_FROM": SENDER, "SMTP_SECURITY": "none", "SMTP_USER": "u"}, "would send SMTP_PASS unencrypted"),
    ({"SMTP_HOST": "h"}, "SMTP_FROM must be a sender address"),
    ({"SMTP_HOST": "h", "SMTP_FROM": SENDER, "SMTP_PORT": "70000"}, "SMTP_PORT must be between 1 and 65535"),
    ({"CRM_DIGEST_SENDER": "digest"}, "CRM_DIGEST_SENDER must be an email address"),
])
def test_bad_smtp_settings_stop_the_start(tmp_path, environ, words):
    with pytest.raises(crm_config.ConfigError, match=words):
        crm_config.load(environ=environ, data_dir=tmp_path)


# -- no other way to send ------------------------------------------------------------------------------

MAILER = "crm.digest.mailer"
SENDING_CALLS = {"send_message", "sendmail"}


def sending_code(tree: ast.AST) -> list:
    """What in a module could send mail: an smtplib import, a `.send_message(` or `.sendmail(`
    call, the Gmail send path as a string."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] == "smtplib"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "smtplib":
            found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SENDING_CALLS:
            found.append(f".{node.func.attr}( on line {node.lineno}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "/messages/send" in node.value:
            found.append(f"{node.value!r} on line {node.lineno}")
    return found


def test_the_checker_sees_every_way_to_send():
    source = ("import smtplib\nfrom smtplib import SMTP\ndef f(c):\n    c.send_message(b'')\n    c.s.sendmail('a', 'b', 'c')\n"
              "PATH = '/gmail/v1/users/me/messages/send'\n")
    assert len(sending_code(ast.parse(source))) == 5
    assert sending_code(ast.parse("def send_message(self, raw):\n    return raw\n")) == []  # defining is not sending


def test_only_the_digest_mailer_sends_mail():
    """The Gmail client defines the send call (and names its path); only the mailer calls it, and
    only the mailer speaks SMTP."""
    modules = parse_modules()
    assert MAILER in modules and "crm.email.client" in modules
    found = {name: sending_code(tree) for name, (_, tree) in modules.items()}
    assert any(f.startswith(".send_message(") for f in found.pop(MAILER)), "the mailer no longer sends?"
    client = found.pop("crm.email.client")
    assert client and all(f.startswith("'/messages/send'") for f in client)
    wrong = {name: f for name, f in found.items() if f}
    assert not wrong, f"only {MAILER} may send mail: {wrong}"


SENDING_ROUTES = {("POST", "/api/admin/digest/send-now"), ("POST", "/api/admin/digest/test-email")}


def test_only_the_digests_own_routes_reach_the_mailer():
    """Through any chain of imports, only crm.digest.handlers reaches the mailer, and its only
    routes that send are send-now and test-email (admins only; the mailer still checks each
    recipient)."""
    modules = parse_modules()
    graph = {name: imports_of(name, path, tree, set(modules)) for name, (path, tree) in modules.items()}
    reaching = set()
    for start in {r.handler.__module__ for r in ROUTES}:
        reached, pending = set(), [start]
        while pending:
            module = pending.pop()
            if module not in reached:
                reached.add(module)
                pending.extend(graph[module])
        if MAILER in reached:
            reaching.add(start)
    assert reaching == {"crm.digest.handlers"}
    digest_routes = {(r.method, r.path): r for r in ROUTES if r.handler.__module__ == "crm.digest.handlers"}
    assert SENDING_ROUTES <= set(digest_routes) and all(r.auth == "admin" for r in digest_routes.values())
    assert module_name(CRM / "digest" / "mailer.py") == MAILER


def test_no_route_makes_the_server_send_mail(make_server, smtp, trusted, tmp_path):
    """Every route but the digest's two that send, called as an admin, capture on with the compose
    scope granted and SMTP configured, with mail captured from an investor: nothing reaches
    Gmail's send or the SMTP server."""
    inbox, port = smtp()
    with FakeGoogle() as google:
        google.write_key_file(tmp_path / "service-account.json")
        server = make_server(**capture_config(google, tmp_path / "service-account.json"), **smtp_settings(port))
        admin = server.register_admin()
        add_investor(admin, "Acme LP", ("Jane Doe", LP))
        google.grant(ADMIN, [READONLY, COMPOSE])
        account = enroll(admin, ADMIN)[ADMIN]
        google.add_message(ADMIN, mail(f"Jane Doe <{LP}>", ADMIN, "Fund II close"))
        assert sync(server, account)["status"] == "ok"
        thread_id = admin.get("/api/email/threads").json()["data"][0]["id"]
        # endless; ends the session; the digest's sends (test_digest_sending.py)
        skipped = {("GET", "/api/fundraising/events"), ("POST", "/api/auth/logout"), *SENDING_ROUTES}
        called = 0
        for route in ROUTES:
            if (route.method, route.path) in skipped:
                continue
            path = route.path.replace("{id}", thread_id)
            for name in route.params:
                path = path.replace("{" + name + "}", "x")
            r = admin.request(route.method, path, {} if route.method in ("POST", "PUT", "PATCH") else None)
            assert r.status_code < 500, (route.method, route.path, r.status_code, r.text)
            called += 1
        assert called == len(ROUTES) - len(skipped)
        eventually(lambda: not any(t.name == "gmail-run-now" for t in threading.enumerate()))  # run-now's sync
        assert google.sent == [] and google.calls["messages.send"] == 0 and inbox.envelopes == []
