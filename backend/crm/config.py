"""Every CRM_* setting (and the SMTP_* ones the container passes on), parsed once at start-up into
one typed, frozen object.

`VARIABLES` is the single list of what the server reads from the environment;
the README's table is written from it and a test checks the two agree.
"""
import base64
import ipaddress
import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path

from .clock import zone

REPO_ROOT = Path(__file__).resolve().parents[2]


class ConfigError(Exception):
    """A setting is missing or malformed; the server refuses to start."""


@dataclass(frozen=True)
class Var:
    name: str
    attr: str
    kind: type
    default: object
    help: str


VARIABLES = [
    Var("CRM_ENV", "env", str, "development", "`development` or `production` (production enforces the secret key, HSTS, no demo data)"),
    Var("CRM_HOST", "host", str, "127.0.0.1", "address to bind"),
    Var("CRM_PORT", "port", int, 8080, "port to bind (0 picks a free one)"),
    Var("CRM_DATA_DIR", "data_dir", Path, REPO_ROOT / "data", "where the database, secrets and backups live"),
    Var("CRM_DB_PATH", "db_path", Path, None, "the SQLite file (default `CRM_DATA_DIR/crm.db`)"),
    Var("CRM_FRONTEND_DIR", "frontend_dir", Path, REPO_ROOT / "frontend", "the SPA's static files"),
    Var("CRM_SECRET_KEY", "secret_key", str, None, "JWT signing key, at least 32 characters; required in production. In development a random key is kept in `CRM_DATA_DIR/.crm-secret`"),
    Var("CRM_PUBLIC_URL", "public_url", str, None, "base URL used in invite links (default: from the request's Host header)"),
    Var("CRM_CORS_ORIGIN", "cors_origins", tuple, (), "comma-separated origins allowed cross-origin access (default none: same origin only)"),
    Var("CRM_TRUST_PROXY", "trust_proxy", bool, False, "`1` to take the client address from `X-Forwarded-For` (only behind your own proxy)"),
    Var("CRM_PROXY_ADDRESSES", "proxy_addresses", tuple, (), "comma-separated addresses or networks of that proxy: `X-Forwarded-For` is believed only on connections from them (default: from any peer)"),
    Var("CRM_MAX_BODY_BYTES", "max_body_bytes", int, 10 * 1024 * 1024, "largest request body accepted (413 above it)"),
    Var("CRM_MAX_GRID_BODY_BYTES", "max_grid_body_bytes", int, 64 * 1024 * 1024, "largest whole-grid save (`PUT /api/fundraising/state`: 10,000 rows are ~20 MB) or grid import (100,000 rows are ~40 MB), read only once the sender is signed in"),
    Var("CRM_GZIP_LEVEL", "gzip_level", int, 6, "zlib level for API answers over 1 KiB sent to clients that accept gzip: 1 fastest, 9 smallest, 0 sends them uncompressed (docs/PERFORMANCE.md \"Compression\")"),
    Var("CRM_TOKEN_TTL_HOURS", "token_ttl_hours", int, 24, "lifetime of a sign-in token"),
    Var("CRM_INVITE_TTL_HOURS", "invite_ttl_hours", int, 72, "lifetime of an invite or password-reset link"),
    Var("CRM_LOGIN_RATE_LIMIT_PER_MIN", "login_rate_limit", int, 20, "sign-in attempts per client address per minute"),
    Var("CRM_WRITE_RATE_LIMIT_PER_MIN", "write_rate_limit", int, 300, "POST/PUT/PATCH/DELETE per signed-in user (per client address when not signed in) per minute"),
    Var("CRM_GET_RATE_LIMIT_PER_MIN", "get_rate_limit", int, 600, "GET/HEAD API requests per signed-in user (per client address when not signed in) per minute"),
    Var("CRM_LOGIN_FAILURES_PER_USER", "login_failures_per_user", int, 5, "failed sign-ins per username per 15 minutes before that username is throttled"),
    Var("CRM_ABUSE_404_THRESHOLD", "abuse_404_threshold", int, 30, "404s from one signed-in user, or one address when not signed in, within the window that trigger a ban of that user or address"),
    Var("CRM_ABUSE_404_WINDOW_SEC", "abuse_404_window_sec", int, 60, "window for counting 404s"),
    Var("CRM_ABUSE_BAN_SEC", "abuse_ban_sec", int, 900, "how long a ban lasts"),
    Var("CRM_SEED_DEMO_DATA", "seed_demo_data", bool, False, "`1` to load demo data on an empty database (refused in production)"),
    Var("CRM_LOG_LEVEL", "log_level", str, "INFO", "Python logging level"),
    # Gmail capture (backend/crm/email, docs/EMAIL.md): off unless enabled.
    Var("CRM_GMAIL_INTEGRATION_ENABLED", "gmail_enabled", bool, False, "`1` turns Gmail capture on: the sync thread starts and `/api/email/*` answers (otherwise 503)"),
    Var("CRM_GMAIL_AUTH_METHOD", "gmail_auth_method", str, "dwd", "`dwd` (a service account with domain-wide delegation, recommended) or `oauth` (each user consents)"),
    Var("CRM_GMAIL_SA_KEY_PATH", "gmail_sa_key_path", Path, None, "the service account's JSON key (default `CRM_DATA_DIR/secrets/gmail-service-account.json`, mode 600)"),
    Var("CRM_GMAIL_WORKSPACE_DOMAIN", "gmail_workspace_domain", str, None, "the team's Google Workspace domain: whose mailboxes enroll-all takes, and what counts as internal mail"),
    Var("CRM_GMAIL_OAUTH_CLIENT_ID", "gmail_oauth_client_id", str, None, "OAuth mode: the Google OAuth client id"),
    Var("CRM_GMAIL_OAUTH_CLIENT_SECRET", "gmail_oauth_client_secret", str, None, "OAuth mode: the client secret"),
    Var("CRM_GMAIL_OAUTH_REDIRECT_URI", "gmail_oauth_redirect_uri", str, None, "OAuth mode: `https://<your host>/api/email/oauth/callback`"),
    Var("CRM_GMAIL_SECRET_KEY", "gmail_secret_key", str, None, "OAuth mode: base64 of 32 random bytes, the AES-256-GCM key for refresh tokens at rest (not `CRM_SECRET_KEY`)"),
    Var("CRM_GMAIL_SYNC_INTERVAL_MIN", "gmail_sync_interval_min", int, 180, "minutes between scheduled syncs of each mailbox"),
    Var("CRM_GMAIL_BACKFILL_PAGE_SIZE", "gmail_backfill_page_size", int, 500, "messages listed per backfill page (1-500); the backfill resumes from the last page stored"),
    Var("CRM_GMAIL_MAX_ATTACHMENT_MB", "gmail_max_attachment_mb", int, 50, "attachments larger than this are listed, not downloaded"),
    Var("CRM_GMAIL_ATTACH_CONCURRENCY", "gmail_attach_concurrency", int, 4, "attachment downloads at once"),
    Var("CRM_GMAIL_RATE_UNITS_SEC", "gmail_rate_units_sec", int, 150, "Gmail quota units per second per mailbox (Google allows 250)"),
    Var("CRM_GMAIL_RETRY_MAX", "gmail_retry_max", int, 5, "retries of a Gmail call on 429, 5xx or a rate-limit 403, with exponential back-off"),
    Var("CRM_GMAIL_HISTORY_STALE_DAYS", "gmail_history_stale_days", int, 5, "when Gmail's history has expired, how many days before the last successful sync the re-scan goes back"),
    Var("CRM_GMAIL_PRIVATE_LABEL", "gmail_private_label", str, "CRM-Private", "a thread carrying this Gmail label is never captured (and is removed if it was)"),
    Var("CRM_GMAIL_CAPTURE_MODE", "gmail_capture_mode", str, "all", "`all`, or `labelled`: only threads carrying `CRM_GMAIL_CAPTURE_LABEL`"),
    Var("CRM_GMAIL_CAPTURE_LABEL", "gmail_capture_label", str, "CRM", "the label `labelled` mode captures"),
    Var("CRM_GMAIL_SKIP_ROLE_ADDRESSES", "gmail_skip_role_addresses", bool, True, "skip mail from or to role addresses (noreply@, notifications@, support@ ...)"),
    Var("CRM_GMAIL_API_BASE_URL", "gmail_api_base_url", str, "https://gmail.googleapis.com", "the Gmail API (tests point it at a stand-in)"),
    Var("CRM_GMAIL_TOKEN_URI", "gmail_token_uri", str, "https://oauth2.googleapis.com/token", "Google's OAuth token endpoint"),
    Var("CRM_GMAIL_OAUTH_AUTH_URI", "gmail_oauth_auth_uri", str, "https://accounts.google.com/o/oauth2/v2/auth", "Google's OAuth consent page"),
    Var("CRM_EMAIL_PROPOSE_BACKFILL_DAYS", "email_propose_backfill_days", int, 14, "captured mail older than this many days gets no proposed note (so enrolling a mailbox does not bury the team)"),
    # The local model server ("Spark"), OpenAI-compatible: the only model the CRM ever calls.
    Var("CRM_SPARK_BASE_URL", "spark_base_url", str, None, "its OpenAI-compatible base URL, e.g. `http://spark.local:8000/v1` (unset: drafts and the digest use their deterministic text)"),
    Var("CRM_SPARK_CHAT_MODEL", "spark_chat_model", str, "local", "the chat model to ask"),
    Var("CRM_SPARK_TIMEOUT_SEC", "spark_timeout_sec", int, 20, "how long to wait for an answer before using the deterministic text"),
    # Retrieval (backend/crm/ingest, docs/RETRIEVAL.md): dense vectors from an OpenAI-compatible embedding server, BM25 computed here.
    Var("CRM_EMBED_URL", "embed_url", str, None, "the OpenAI-compatible base URL of the embedding server, `/v1` included (`POST {url}/embeddings`), e.g. `http://spark.local:8000/v1`; default `CRM_SPARK_BASE_URL`. Neither set: search is BM25 (sparse) only"),
    Var("CRM_EMBED_MODEL", "embed_model", str, "bge-m3", "the embedding model to ask (changing it re-embeds everything on the next ingest run)"),
    Var("CRM_EMBED_TIMEOUT_SEC", "embed_timeout_sec", int, 30, "how long one batch of embeddings may take (then that run goes on sparse-only)"),
    Var("CRM_QDRANT_URL", "qdrant_url", str, None, "a Qdrant server or cluster, e.g. `http://qdrant:6333` (default: embedded local mode in `CRM_DATA_DIR/qdrant`, for up to ~20,000 chunks)"),
    Var("CRM_QDRANT_API_KEY", "qdrant_api_key", str, None, "that server's API key, if it needs one (never logged)"),
    # The one external model (backend/crm/ingest/external.py): every prompt is redacted before it leaves
    # and the answer re-hydrated (docs/RETRIEVAL.md). Nothing calls it without a key; the digest never does.
    Var("CRM_ANTHROPIC_API_KEY", "anthropic_api_key", str, None, "the Anthropic API key (StartOS: the *Set Anthropic API key* action; never logged or shown). Unset: no external model"),
    Var("CRM_ANTHROPIC_BASE_URL", "anthropic_base_url", str, "https://api.anthropic.com", "Anthropic's API, where `/v1/messages` begins (tests point it at a stand-in); `https://` except on the loopback"),
    Var("CRM_ANTHROPIC_MODEL", "anthropic_model", str, "claude-sonnet-4-5", "the model asked"),
    Var("CRM_ANTHROPIC_TIMEOUT_SEC", "anthropic_timeout_sec", int, 60, "how long to wait for one answer"),
    # Outbound mail: the digest mailer (backend/crm/digest/mailer.py), the one path that sends, to active admins only.
    # The SMTP_* names are the ones docker_entrypoint.sh exports from the StartOS package's SMTP setting.
    Var("CRM_DIGEST_SENDER", "digest_sender", str, None, "the mailbox the digest is sent as through Gmail (domain-wide delegation, `gmail.compose`); default: the first active admin"),
    Var("SMTP_HOST", "smtp_host", str, None, "the SMTP server the digest falls back to when Gmail cannot send it (unset: no SMTP)"),
    Var("SMTP_PORT", "smtp_port", int, None, "its port (default 587 for `starttls`, 465 for `tls`, 25 for `none`)"),
    Var("SMTP_SECURITY", "smtp_security", str, "starttls", "`starttls` or `tls` (the certificate is always verified), or `none` for a relay on a trusted network that needs no sign-in"),
    Var("SMTP_USER", "smtp_user", str, None, "the SMTP sign-in name (unset: no sign-in)"),
    Var("SMTP_PASS", "smtp_pass", str, None, "its password (never logged)"),
    Var("SMTP_FROM", "smtp_from", str, None, "the sender, e.g. `Venture CRM <digest@fund.example>`; required with `SMTP_HOST`"),
    # The evening digest (backend/crm/digest, docs/DIGEST.md). Its policy lives in the database; these seed it once.
    Var("CRM_DIGEST_ENABLED", "digest_enabled", bool, None, "first boot only: whether the daily digest starts switched on (afterwards Settings → Admin decides)"),
    Var("CRM_DIGEST_SEND_HOUR", "digest_send_hour", int, None, "first boot only: the local hour (0-23) it is sent at"),
    Var("CRM_TIMEZONE", "timezone", str, None, "the IANA time zone the digest's hour and day are in, e.g. `Europe/Berlin`"),
]
AT_LEAST_ONE = {"login_rate_limit", "write_rate_limit", "get_rate_limit", "login_failures_per_user", "abuse_404_threshold",
                "gmail_sync_interval_min", "gmail_backfill_page_size", "gmail_attach_concurrency", "gmail_rate_units_sec",
                "spark_timeout_sec", "embed_timeout_sec", "anthropic_timeout_sec"}


@dataclass(frozen=True)
class Config:
    env: str = "development"
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = REPO_ROOT / "data"
    db_path: Path = None
    frontend_dir: Path = REPO_ROOT / "frontend"
    secret_key: str = None
    public_url: str = None
    cors_origins: tuple = ()
    trust_proxy: bool = False
    proxy_addresses: tuple = ()
    max_body_bytes: int = 10 * 1024 * 1024
    max_grid_body_bytes: int = 64 * 1024 * 1024
    gzip_level: int = 6
    token_ttl_hours: int = 24
    invite_ttl_hours: int = 72
    login_rate_limit: int = 20
    write_rate_limit: int = 300
    get_rate_limit: int = 600
    login_failures_per_user: int = 5
    abuse_404_threshold: int = 30
    abuse_404_window_sec: int = 60
    abuse_ban_sec: int = 900
    seed_demo_data: bool = False
    log_level: str = "INFO"
    gmail_enabled: bool = False
    gmail_auth_method: str = "dwd"
    gmail_sa_key_path: Path = None
    gmail_workspace_domain: str = None
    gmail_oauth_client_id: str = None
    gmail_oauth_client_secret: str = None
    gmail_oauth_redirect_uri: str = None
    gmail_secret_key: str = None
    gmail_sync_interval_min: int = 180
    gmail_backfill_page_size: int = 500
    gmail_max_attachment_mb: int = 50
    gmail_attach_concurrency: int = 4
    gmail_rate_units_sec: int = 150
    gmail_retry_max: int = 5
    gmail_history_stale_days: int = 5
    gmail_private_label: str = "CRM-Private"
    gmail_capture_mode: str = "all"
    gmail_capture_label: str = "CRM"
    gmail_skip_role_addresses: bool = True
    gmail_api_base_url: str = "https://gmail.googleapis.com"
    gmail_token_uri: str = "https://oauth2.googleapis.com/token"
    gmail_oauth_auth_uri: str = "https://accounts.google.com/o/oauth2/v2/auth"
    email_propose_backfill_days: int = 14
    spark_base_url: str = None
    spark_chat_model: str = "local"
    spark_timeout_sec: int = 20
    embed_url: str = None
    embed_model: str = "bge-m3"
    embed_timeout_sec: int = 30
    qdrant_url: str = None
    qdrant_api_key: str = field(default=None, repr=False)
    anthropic_api_key: str = field(default=None, repr=False)
    anthropic_base_url: str = "https://api.anthropic.com"
    anthropic_model: str = "claude-sonnet-4-5"
    anthropic_timeout_sec: int = 60
    digest_sender: str = None
    smtp_host: str = None
    smtp_port: int = None
    smtp_security: str = "starttls"
    smtp_user: str = None
    smtp_pass: str = field(default=None, repr=False)
    smtp_from: str = None
    digest_enabled: bool = None
    digest_send_hour: int = None
    timezone: str = None
    # Not from the environment: whether the secret came from CRM_SECRET_KEY.
    secret_from_env: bool = field(default=False, compare=False)

    @property
    def production(self) -> bool:
        return self.env == "production"


def _parse(var: Var, raw: str):
    if var.kind is bool:
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{var.name} must be 1 or 0, not {raw!r}")
    if var.kind is int:
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{var.name} must be a whole number, not {raw!r}") from None
        if value < 0:
            raise ConfigError(f"{var.name} must not be negative")
        return value
    if var.kind is tuple:
        return tuple(part.strip().rstrip("/") for part in raw.split(",") if part.strip())
    if var.kind is Path:
        return Path(raw).expanduser().resolve()
    return raw


def load(environ=None, **overrides) -> Config:
    """Build the Config from `environ` (default os.environ); `overrides` win (tests use them)."""
    environ = os.environ if environ is None else environ
    values = {}
    for var in VARIABLES:
        raw = environ.get(var.name)
        if raw is not None and raw != "":
            values[var.attr] = _parse(var, raw)
    values.update(overrides)
    config = Config(**values)
    return _finish(config)


def _finish(config: Config) -> Config:
    if config.env not in ("development", "production"):
        raise ConfigError(f"CRM_ENV must be development or production, not {config.env!r}")
    changes = {}
    if config.db_path is None:
        changes["db_path"] = Path(config.data_dir) / "crm.db"
    if config.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"CRM_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {config.log_level!r}")
    for address in config.proxy_addresses:
        try:
            ipaddress.ip_network(address, strict=False)
        except ValueError:
            raise ConfigError(f"CRM_PROXY_ADDRESSES: {address!r} is not an IP address or network") from None
    if config.max_body_bytes < 1024:
        raise ConfigError("CRM_MAX_BODY_BYTES must be at least 1024")
    if config.max_grid_body_bytes < config.max_body_bytes:
        raise ConfigError("CRM_MAX_GRID_BODY_BYTES must be at least CRM_MAX_BODY_BYTES")
    if not 0 <= config.gzip_level <= 9:
        raise ConfigError(f"CRM_GZIP_LEVEL must be 0 to 9, not {config.gzip_level}")
    for var in VARIABLES:
        # A count of 0 would refuse everything (and crash the sliding window); "no limit" is a big number.
        if var.attr in AT_LEAST_ONE and getattr(config, var.attr) < 1:
            raise ConfigError(f"{var.name} must be at least 1")
    if config.secret_key:
        if config.production and len(config.secret_key) < 32:
            raise ConfigError("CRM_SECRET_KEY must be at least 32 characters in production")
        changes["secret_from_env"] = True
    elif config.production:
        raise ConfigError("CRM_ENV=production needs CRM_SECRET_KEY (at least 32 characters)")
    else:
        changes["secret_key"] = _development_secret(Path(config.data_dir))
    if config.production and config.seed_demo_data:
        raise ConfigError("CRM_SEED_DEMO_DATA is refused in production")
    if config.spark_base_url and not config.spark_base_url.startswith(("http://", "https://")):
        raise ConfigError(f"CRM_SPARK_BASE_URL must start with http:// or https://, not {config.spark_base_url!r}")
    for name, url in (("CRM_EMBED_URL", config.embed_url), ("CRM_QDRANT_URL", config.qdrant_url)):
        if url and not url.startswith(("http://", "https://")):
            raise ConfigError(f"{name} must start with http:// or https://, not {url!r}")
    _check_anthropic(config)
    if config.gmail_sa_key_path is None:
        changes["gmail_sa_key_path"] = Path(config.data_dir) / "secrets" / "gmail-service-account.json"
    _check_gmail(config)
    changes.update(_check_smtp(config))
    _check_digest(config)
    return _replace(config, **changes)


def _check_gmail(config: Config) -> None:
    """Malformed Gmail settings stop start-up; a missing key file does not (the status page says so)."""
    if config.gmail_auth_method not in ("dwd", "oauth"):
        raise ConfigError(f"CRM_GMAIL_AUTH_METHOD must be dwd or oauth, not {config.gmail_auth_method!r}")
    if config.gmail_capture_mode not in ("all", "labelled"):
        raise ConfigError(f"CRM_GMAIL_CAPTURE_MODE must be all or labelled, not {config.gmail_capture_mode!r}")
    if config.gmail_backfill_page_size > 500:
        raise ConfigError("CRM_GMAIL_BACKFILL_PAGE_SIZE must be at most 500 (Gmail's largest page)")
    if not config.gmail_enabled:
        return
    if not config.gmail_workspace_domain:
        raise ConfigError("CRM_GMAIL_INTEGRATION_ENABLED needs CRM_GMAIL_WORKSPACE_DOMAIN (the team's domain)")
    if config.gmail_auth_method == "oauth":
        missing = [name for name, value in (("CRM_GMAIL_OAUTH_CLIENT_ID", config.gmail_oauth_client_id),
                                            ("CRM_GMAIL_OAUTH_CLIENT_SECRET", config.gmail_oauth_client_secret),
                                            ("CRM_GMAIL_OAUTH_REDIRECT_URI", config.gmail_oauth_redirect_uri),
                                            ("CRM_GMAIL_SECRET_KEY", config.gmail_secret_key)) if not value]
        if missing:
            raise ConfigError(f"CRM_GMAIL_AUTH_METHOD=oauth needs {', '.join(missing)}")
        try:
            if len(base64.b64decode(config.gmail_secret_key, validate=True)) != 32:
                raise ValueError
        except ValueError:
            raise ConfigError("CRM_GMAIL_SECRET_KEY must be base64 of exactly 32 bytes") from None


LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


def _check_anthropic(config: Config) -> None:
    """The key goes in a header: only over TLS, except to a stand-in on this machine."""
    url = config.anthropic_base_url or ""
    host = url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0] if "://" in url else ""
    if "@" in url.split("://", 1)[-1].split("/", 1)[0]:
        raise ConfigError("CRM_ANTHROPIC_BASE_URL must not carry a user name or password")
    if not (url.startswith("https://") or (url.startswith("http://") and host in LOOPBACK)):
        raise ConfigError(f"CRM_ANTHROPIC_BASE_URL must start with https:// (http:// only on the loopback), not {url!r}")
    if not config.anthropic_model:
        raise ConfigError("CRM_ANTHROPIC_MODEL must name a model")


SMTP_PORTS = {"starttls": 587, "tls": 465, "none": 25}  # each security's usual port


def _check_digest(config: Config) -> None:
    if config.digest_send_hour is not None and not 0 <= config.digest_send_hour <= 23:
        raise ConfigError(f"CRM_DIGEST_SEND_HOUR must be an hour from 0 to 23, not {config.digest_send_hour}")
    if config.timezone:
        try:
            zone(config.timezone)
        except ValueError as exc:
            raise ConfigError(f"CRM_TIMEZONE: {exc}") from None


def _check_smtp(config: Config) -> dict:
    """The same rules docker_entrypoint.sh applies, for a server started without it; the port's default."""
    if config.smtp_security not in SMTP_PORTS:
        raise ConfigError(f"SMTP_SECURITY must be starttls, tls or none, not {config.smtp_security!r}")
    if config.smtp_security == "none" and config.smtp_user:
        raise ConfigError("SMTP_SECURITY=none would send SMTP_PASS unencrypted: use starttls or tls to sign in")
    if config.digest_sender and "@" not in config.digest_sender:
        raise ConfigError(f"CRM_DIGEST_SENDER must be an email address, not {config.digest_sender!r}")
    if not config.smtp_host:
        return {}
    if not config.smtp_from or "@" not in config.smtp_from:
        raise ConfigError("SMTP_FROM must be a sender address (Name <digest@fund.example>) when SMTP_HOST is set")
    if config.smtp_port is None:
        return {"smtp_port": SMTP_PORTS[config.smtp_security]}
    if not 1 <= config.smtp_port <= 65535:
        raise ConfigError(f"SMTP_PORT must be between 1 and 65535, not {config.smtp_port}")
    return {}


def _development_secret(data_dir: Path) -> str:
    """Keep a random key in the data directory so development sign-ins survive restarts."""
    path = data_dir / ".crm-secret"
    data_dir.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key


def _replace(config: Config, **changes) -> Config:
    values = {f.name: getattr(config, f.name) for f in fields(config)}
    values.update(changes)
    return Config(**values)
