"""A rate limit shared by every connection: at most `rate` messages per second, evenly spaced."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.clock, self.sleep = clock, sleep
        self.next_slot = 0.0
        self.lock = threading.Lock()

    def wait(self) -> None:
        """Return when the next message may go; each caller gets its own slot."""
        if not self.interval:
            return
        with self.lock:
            now = self.clock()
            slot = max(now, self.next_slot)
            self.next_slot = slot + self.interval
        if slot > now:
            self.sleep(slot - now)


_PERIODS = {
    "s": 1,
    "sec": 1,
    "seconde": 1,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "heure": 3600,
    "j": 86400,
    "jour": 86400,
}


def parse_rate(value: str | int | float) -> float:
    """`"30/min"`, `"2/s"`, `"500/h"`, `"10000/jour"` or a number of messages per second → per second.

    Raises ValueError with a French message for anything else.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < 0:
            raise ValueError("un débit ne peut pas être négatif")
        return float(value)
    count, slash, period = str(value).replace(" ", "").partition("/")
    try:
        number = float(count.replace(",", "."))
    except ValueError:
        number = -1.0
    seconds = _PERIODS.get(period.lower().rstrip("s") or "s", _PERIODS.get(period.lower()))
    if not slash or number < 0 or seconds is None:
        raise ValueError(f'débit illisible « {value} » : écrivez par exemple "30/min", "2/s" ou "500/h"')
    return number / seconds


class DomainPacer:
    """A rate per recipient domain (`"*"`: the default for every other domain), on top of the global one.

    The thread that hands messages to the connections holds back a message whose domain's next slot
    has not come (`ready_at`, `take`), while messages for other domains go: a strict ISP slows only
    its own subscribers. Each connection then calls `before_send` right before the message goes,
    which spaces the sends themselves (a connection slow to open must not let two messages of a
    domain go back to back) and pushes the domain's next slot from the real time of sending.
    """

    def __init__(self, rates: dict[str, float], clock: Callable[[], float] = time.monotonic):
        self.default = rates.get("*", 0.0)
        self.rates = {domain: rate for domain, rate in rates.items() if domain != "*"}
        self.clock = clock
        self.next_slot: dict[str, float] = {}
        self.last_sent: dict[str, float] = {}
        self.lock = threading.Lock()

    def interval(self, domain: str) -> float:
        rate = self.rates.get(domain, self.default)
        return 1.0 / rate if rate > 0 else 0.0

    def paced(self, domain: str) -> bool:
        return self.interval(domain) > 0

    def ready_at(self, domain: str) -> float:
        return self.next_slot.get(domain, 0.0)

    def take(self, domain: str) -> None:
        """Plan the domain's next message one interval after this one's release."""
        interval = self.interval(domain)
        if interval:
            with self.lock:
                self.next_slot[domain] = max(self.clock(), self.ready_at(domain)) + interval

    def before_send(self, domain: str) -> float:
        """Seconds to wait before this message goes (0 when its slot has come); reserves the slot."""
        interval = self.interval(domain)
        if not interval:
            return 0.0
        with self.lock:
            now = self.clock()
            slot = max(now, self.last_sent.get(domain, -interval) + interval)
            self.last_sent[domain] = slot
            self.next_slot[domain] = max(self.ready_at(domain), slot + interval)
        return slot - now
