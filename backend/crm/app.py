"""main(): config → migrate → serve. `create_server` is what tests start."""
import logging
import signal
import socket
import sys
import threading
import time
from http.server import ThreadingHTTPServer

from . import config as config_module
from . import demo
from .db import connect
from .db.connection import enable_wal
from .db.migrate import MigrationError, apply_all
from .background import Loop
from .backups import scheduler as backup_scheduler
from .digest import policy as digest_policy
from .digest import runner as digest_runner
from .db.gate import Gate
from .db.pool import ConnectionPool
from .email import listeners as email_listeners
from .email.capture import Capture
from .fundraising import daily, listeners
from .fundraising.collab import Presence
from .fundraising.keeper import Keeper
from .fundraising.live import LiveGrid
from .fundraising.setup import ensure_defaults
from .ingest import listeners as ingest_listeners
from .ingest.service import Retrieval
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
        listeners.register()  # the grid follows classic changes (crm.hooks)
        email_listeners.register()  # so does captured email (reset-all-data)
        ingest_listeners.register()  # Relationship cells from crm.ingest's scores; the index follows Gmail syncs
        self.router = Router(ROUTES)
        self.static = StaticFiles(config.frontend_dir)
        self.shield = Shield(config)
        self.pool = ConnectionPool(config.db_path)
        self.gate = Gate()
        self.presence = Presence()
        self.grid = LiveGrid()  # the fundraising grid's rows in memory, per version
        self.stopping = threading.Event()  # set at shutdown; long-lived streams end on it
        self.email = Capture(config, self.pool, self.stopping, owner=self) if config.gmail_enabled else None
        self.retrieval = Retrieval(config, self.pool)  # the one search index of this process (crm.ingest)


# How long a SIGTERM waits for in-flight requests and background steps. StartOS
# (and `docker stop`) kill after 10 s or more; this leaves time to close up.
SHUTDOWN_GRACE_SEC = 8.0


class DrainingHandler(CRMHandler):
    """CRMHandler that tells the server when a connection is between requests.

    An idle keep-alive connection blocks in readline() and would never end on
    its own, so at shutdown the server closes idle ones and lets busy ones
    finish the request they are serving (then closes them).
    """

    def parse_request(self):  # a request line has arrived: busy until it is answered
        self.server.connection_busy(self.connection, True)
        return super().parse_request()

    def send(self, app, response, request_id):
        if app.stopping.is_set():
            self.close_connection = True  # answer with "Connection: close": no keep-alive once shutdown began
        super().send(app, response, request_id)

    def handle_one_request(self):
        super().handle_one_request()
        self.server.connection_busy(self.connection, False)
        # Checked after marking idle: drain() either saw this connection idle (and
        # shut it) or runs after `stopping` was set, which is seen here.
        if self.server.app.stopping.is_set():
            self.close_connection = True


class CRMServer(ThreadingHTTPServer):
    daemon_threads = True  # drain() waits for requests with a deadline; a stuck client cannot hold the exit
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, app: App):
        self.app = app
        self._connections = {}  # socket -> busy (a request is being served)
        self._connections_changed = threading.Condition()
        super().__init__((app.config.host, app.config.port), DrainingHandler)

    def process_request(self, request, client_address):
        with self._connections_changed:
            self._connections[request] = False
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        super().shutdown_request(request)
        with self._connections_changed:
            self._connections.pop(request, None)
            self._connections_changed.notify_all()

    def connection_busy(self, request, busy: bool) -> None:
        with self._connections_changed:
            if request in self._connections:
                self._connections[request] = busy

    def drain(self, timeout: float) -> int:
        """After serve_forever() has returned: close idle connections, wait for busy ones.

        Returns how many connections were still open at the deadline.
        """
        deadline = time.monotonic() + timeout
        with self._connections_changed:
            for request, busy in self._connections.items():
                if not busy:
                    try:  # wakes the thread blocked in readline(); it sees EOF and ends
                        request.shutdown(socket.SHUT_RD)
                    except OSError:
                        pass
            while self._connections and time.monotonic() < deadline:
                self._connections_changed.wait(deadline - time.monotonic())
            return len(self._connections)


def prepare_database(config) -> list:
    """WAL on, migrations applied, demo data if asked for. Returns the versions applied now."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    enable_wal(config.db_path)
    conn = connect(config.db_path)
    try:
        applied = apply_all(conn)
        ensure_defaults(conn)
        digest_policy.seed(conn, config)
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
    """The daemon loops: the daily automation trigger, backups, the evening digest (always: it
    reads its policy every minute) and (when on) Gmail capture."""
    def daily_rules():
        conn = app.pool.acquire()
        try:
            daily.run_if_due(conn)
        finally:
            app.pool.release(conn)

    loops = [Loop("automations-daily", 60, daily_rules, app.stopping),
             Loop("backups", 60, lambda: backup_scheduler.step(app), app.stopping),
             Loop("digest", 60, lambda: digest_runner.step(app), app.stopping)]
    if app.email is not None:  # Gmail capture: each mailbox every CRM_GMAIL_SYNC_INTERVAL_MIN
        loops.append(Loop("gmail-sync", 60, app.email.step, app.stopping))
    for loop in loops:
        loop.start()
    Keeper(app.grid, app.pool, app.presence, app.stopping).start()  # the grid's snapshot is made before anyone asks for it
    app.retrieval.open_soon()  # hold a local index folder from the start (the CLI then says so)
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
    loops = start_background(server.app)
    host, port = server.server_address[:2]
    log.info("Venture CRM (%s) serving http://%s:%d data=%s", config.env, host, port, config.data_dir)

    def stop(signum, frame):
        if server.app.stopping.is_set():
            return
        log.info("signal %d: shutting down", signum)
        server.app.stopping.set()  # event streams end; loops stop after their current step
        threading.Thread(target=server.shutdown, name="shutdown", daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever()
    finally:
        server.server_close()  # stop listening: new connections are refused from here on
    shutdown(server, loops, SHUTDOWN_GRACE_SEC)
    log.info("stopped")
    return 0


def shutdown(server: CRMServer, loops: list, grace: float) -> None:
    """Let in-flight requests and background steps finish, within `grace` seconds in all."""
    deadline = time.monotonic() + grace
    left_open = server.drain(grace)
    if left_open:
        log.warning("shutdown: %d connection(s) still busy after %.0f s; closing anyway", left_open, grace)
    for loop in loops:
        loop.join(max(0.0, deadline - time.monotonic()))
        if loop.is_alive():
            log.warning("shutdown: background loop %s is still in its step; exiting without it", loop.name)
    server.app.retrieval.close()
    server.app.pool.close_all()
