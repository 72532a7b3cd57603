"""Background loops: named daemon threads that wake on an interval, do one step, and survive errors.

Each loop re-reads whatever policy it needs inside `step`, so an admin's change
takes effect on the next wake without a restart. `stop` ends it between steps.
"""
import logging
import threading

log = logging.getLogger("crm.background")


class Loop(threading.Thread):
    def __init__(self, name: str, interval: float, step, stop: threading.Event):
        super().__init__(name=name, daemon=True)
        self.interval, self.step, self.stop_event = interval, step, stop

    def run(self) -> None:
        while not self.stop_event.wait(self.interval):
            try:
                self.step()
            except Exception:  # a loop that dies silently is worse than one that logs and carries on
                log.exception("%s: step failed; will try again in %.0f s", self.name, self.interval)
