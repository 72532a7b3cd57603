"""main(): config → migrate → serve. `create_server` is what tests start."""
import logging
import signal
import sys
import threading
from http.server import ThreadingHTTPServer

from . import config as config_module
from . import demo
from .db import connect
from .db.connection import enable_wal
from .db.migrate import MigrationError, apply_migrations
from .background import Loop
from .backups import scheduler as backup_scheduler
from .db.gate import Gate
from .db.pool import ConnectionPool
from .fundraising import daily
from .fundraising.collab import Presence
from .fundraising.setup import ensure_defaults
from .http.handler import CRMHandler
from .http.routes import ROUTES
from .http.routing import Router
from .http.static import StaticFiles
from .security.shield import Shield

log = logging.getLogger("crm")


class App:
    """Everything a request needs that lives as long as the process."""

    def __init__(self, config):
        self.config = config
        self.router = Router(ROUTES)
        self.static = StaticFiles(config.frontend_dir)
        self.shield = Shield(config)
        self.pool = ConnectionPool(config.db_path)
        self.gate = Gate()
        self.presence = Presence()
        self.stopping = threading.Event()  # set at shutdown; long-lived streams end on it


class CRMServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, app: App):
        self.app = app
        super().__init__((app.config.host, app.config.port), CRMHandler)


def prepare_database(config) -> list:
    """WAL on, migrations applied, demo data if asked for. Returns the versions applied now."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    enable_wal(config.db_path)
    conn = connect(config.db_path)
    try:
        applied = apply_migrations(conn)
        ensure_defaults(conn)
        if config.seed_demo_data:
            created = demo.seed(conn)
            if created:
                log.info("demo data loaded: %s", created)
        return applied
    finally:
        conn.close()


def create_server(config) -> CRMServer:
    prepare_database(config)
    return CRMServer(App(config))


def start_background(app: App) -> list:
    """The daemon loops: the daily automation trigger and backups (mail joins later)."""
    def daily_rules():
        conn = app.pool.acquire()
        try:
            daily.run_if_due(conn)
        finally:
            app.pool.release(conn)

    loops = [Loop("automations-daily", 60, daily_rules, app.stopping),
             Loop("backups", 60, lambda: backup_scheduler.step(app), app.stopping)]
    for loop in loops:
        loop.start()
    return loops


def main(argv=None) -> int:
    try:
        config = config_module.load()
    except config_module.ConfigError as exc:
        print(f"venture-crm: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        server = create_server(config)
    except MigrationError as exc:
        log.error("cannot start: %s", exc)
        return 3
    start_background(server.app)
    host, port = server.server_address[:2]
    log.info("Venture CRM (%s) serving http://%s:%d data=%s", config.env, host, port, config.data_dir)

    def stop(signum, frame):
        log.info("signal %d: shutting down", signum)
        server.app.stopping.set()
        threading.Thread(target=server.shutdown, name="shutdown", daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    log.info("stopped")
    return 0
