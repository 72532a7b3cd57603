"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 over STARTTLS, implicit TLS or plain,
asking for a sign-in, with a self-signed certificate the mailer is made to trust (`trusted`).

    inbox, port = smtp()                 # STARTTLS, sign-in required
    inbox, port = smtp("tls")            # implicit TLS
    inbox, port = smtp("none")           # plain SMTP, no sign-in (a relay on a trusted network)
    make_server(**smtp_settings(port))   # the server's SMTP_* settings for it
"""
import datetime
import email
import ipaddress
import socket
import ssl
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from email_helpers import DOMAIN

SENDER = f"Venture CRM <digest@{DOMAIN}>"
SMTP_LOGIN, SMTP_PASSWORD = "digest", "smtp-password-not-for-logs"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """(cert path, key path): a self-signed certificate for 127.0.0.1."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture
def trusted(certificate, monkeypatch):
    """The mailer's default TLS context trusts the test certificate (and nothing else)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))


class Inbox:
    """What the SMTP server received: one envelope per message; the sign-ins it accepted."""

    def __init__(self):
        self.envelopes, self.logins = [], []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == \
            (SMTP_LOGIN.encode(), SMTP_PASSWORD.encode())
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    def messages(self) -> list:
        return [email.message_from_bytes(e.original_content, policy=policy.default) for e in self.envelopes]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(certificate):
    """smtp(security="starttls") → (inbox, port): a real SMTP server on 127.0.0.1 that asks for a
    sign-in, over STARTTLS or implicit TLS; or ("none") plain, asking for none."""
    servers = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)

    def started(security="starttls", starttls=True):
        inbox, port = Inbox(), free_port()
        # Over implicit TLS aiosmtpd cannot tell that the session is encrypted: it must offer AUTH anyway.
        tls = {"ssl_context": context, "auth_require_tls": False} if security == "tls" else \
            {"tls_context": context, "require_starttls": True} if starttls and security == "starttls" else {}
        controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=inbox.authenticate,
                                auth_required=security == "tls" or (starttls and security == "starttls"), **tls)
        controller.start()
        servers.append(controller)
        return inbox, port
    yield started
    for controller in servers:
        controller.stop()


def smtp_settings(port, security="starttls", password=SMTP_PASSWORD) -> dict:
    """SMTP_* for the server on `port`; `none` signs in with nothing (the configuration refuses a password there)."""
    if security == "none":
        return {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none", "smtp_from": SENDER}
    return {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": security, "smtp_user": SMTP_LOGIN,
            "smtp_pass": password, "smtp_from": SENDER}
