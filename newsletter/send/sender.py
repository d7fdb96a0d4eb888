"""The sending loop: journal → messages → N connections, resumable at any instant.

The calling thread reads the journal page by page into a small bounded queue (memory stays flat
whatever the number of subscribers) and reports progress; each worker thread owns one connection,
builds each message, claims its row, sends, and records the outcome at once. Temporary refusals
are retried in later rounds, after a back-off that doubles each round. Ctrl-C stops the queue:
messages already on their way finish and are recorded, the rest stay queued for the next run.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from newsletter.send.journal import Journal, Pending
from newsletter.send.message import MessageError, MessageFactory, Recipient
from newsletter.send.ratelimit import RateLimiter
from newsletter.send.transports import DEFERRED, FAILED, UNKNOWN, Outcome, Transport, TransportError

SKIPPED, RETRY = "skipped", "retry"
PAGE = 500


@dataclass
class Summary:
    total: int = 0
    outcomes: Counter = field(default_factory=Counter)
    recovered: int = 0
    elapsed: float = 0.0
    error: str | None = None
    interrupted: bool = False
    counts: dict[str, int] = field(default_factory=dict)  # the journal's counts after the run

    @property
    def waiting(self) -> int:
        return self.counts.get("queued", 0) + self.counts.get("deferred", 0)

    @property
    def complete(self) -> bool:
        return not self.error and not self.interrupted and not self.waiting


class Sender:
    def __init__(
        self,
        journal: Journal,
        factory: MessageFactory,
        transport: Callable[[], Transport],
        *,
        connections: int = 1,
        rate: float = 0.0,
        retries: int = 3,
        backoff: float = 60.0,
        resend_unknown: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.journal, self.factory, self.new_transport = journal, factory, transport
        self.connections, self.retries, self.backoff = connections, retries, backoff
        self.first_round = ("queued", "deferred", "unknown") if resend_unknown else ("queued", "deferred")
        self.limiter = RateLimiter(rate)
        self.sleep = sleep
        self.stop = threading.Event()
        self.summary = Summary()

    def prepare(self) -> int:
        """Queue the issue for every subscribed address; return how many messages this run will send."""
        self.summary.recovered = self.journal.prepare()
        self.summary.total = self.journal.count_pending(self.first_round)
        return self.summary.total

    def run(self, progress: Callable[[str], None] = lambda status: None) -> Summary:
        started = time.monotonic()
        try:
            for number in range(self.retries + 1):
                last = number == self.retries
                self._round(self.first_round if number == 0 else (DEFERRED,), last, progress)
                if self.stop.is_set() or last or not self.journal.count_pending((DEFERRED,)):
                    break
                self.sleep(self.backoff * 2**number)
        except KeyboardInterrupt:
            self.summary.interrupted = True
            self.stop.set()
        self.summary.elapsed = time.monotonic() - started
        self.summary.counts = self.journal.counts()
        return self.summary

    def _round(self, statuses: tuple[str, ...], last: bool, progress: Callable[[str], None]) -> None:
        jobs: queue.Queue = queue.Queue(maxsize=self.connections * 16)
        events: queue.Queue = queue.Queue()
        workers = [
            threading.Thread(target=self._work, args=(jobs, events, last), name=f"smtp-{n}", daemon=True)
            for n in range(self.connections)
        ]
        feeder = threading.Thread(target=self._feed, args=(jobs, statuses), name="feeder", daemon=True)
        for thread in (*workers, feeder):
            thread.start()
        running = len(workers)
        while running:
            try:
                kind, status = events.get(timeout=0.2)
            except queue.Empty:
                continue
            except KeyboardInterrupt:  # let the messages on their way finish, then report
                self.summary.interrupted = True
                self.stop.set()
                continue
            if kind == "end":
                running -= 1
            else:
                self.summary.outcomes[status] += 1
                progress(status)
        feeder.join()

    def _feed(self, jobs: queue.Queue, statuses: tuple[str, ...]) -> None:
        after = 0
        try:
            while not self.stop.is_set():
                page = self.journal.pending(statuses, after, PAGE)
                if not page:
                    break
                for item in page:
                    if not self._put(jobs, item):
                        break
                after = page[-1].subscriber_id
        finally:
            for _ in range(self.connections):
                jobs.put(None)

    def _put(self, jobs: queue.Queue, item: Pending) -> bool:
        while not self.stop.is_set():
            try:
                jobs.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _work(self, jobs: queue.Queue, events: queue.Queue, last: bool) -> None:
        transport = self.new_transport()
        try:
            while (item := jobs.get()) is not None:
                if not self.stop.is_set():
                    status = self._deliver(transport, item)
                    events.put(("done", RETRY if status == DEFERRED and not last else status))
        finally:
            try:
                transport.close()
            finally:
                events.put(("end", None))

    def _deliver(self, transport: Transport, item: Pending) -> str:
        journal = self.journal
        try:
            message = self.factory.build(Recipient(item.subscriber_id, item.address, item.name))
        except MessageError as error:
            if not journal.claim(item, ""):
                return SKIPPED
            journal.record(item.subscriber_id, Outcome(FAILED, str(error)))
            return FAILED
        try:
            transport.connect()
        except TransportError as error:
            return self._fail(str(error))
        self.limiter.wait()
        if not journal.claim(item, message.message_id):
            return SKIPPED
        try:
            outcome = transport.send(
                self.factory.config.sender_address, message.recipient, message.data,
                f"{item.subscriber_id:06d}-{message.recipient}",
            )
        except TransportError as error:  # nothing was handed over (an outbox that cannot be written)
            journal.record(item.subscriber_id, Outcome(DEFERRED, str(error)))
            return self._fail(str(error))
        except Exception as error:  # a bug: say so, and keep the journal honest
            journal.record(item.subscriber_id, Outcome(UNKNOWN, f"erreur interne : {error!r}"))
            return self._fail(f"erreur interne pendant l’envoi à {message.recipient} : {error!r}")
        journal.record(item.subscriber_id, outcome)
        return outcome.status

    def _fail(self, error: str) -> str:
        if self.summary.error is None:
            self.summary.error = error
        self.stop.set()
        return SKIPPED


def send_test(factory: MessageFactory, transport: Transport, recipients: list[Recipient]) -> list[Outcome]:
    """Send the letter to each test recipient, outside the journal; one outcome per recipient."""
    outcomes = []
    transport.connect()
    try:
        for recipient in recipients:
            message = factory.build(recipient)
            outcomes.append(
                transport.send(factory.config.sender_address, message.recipient, message.data, message.recipient)
            )
            if transport_needs_reconnect(transport):
                transport.connect()
    finally:
        transport.close()
    return outcomes


def transport_needs_reconnect(transport: Transport) -> bool:
    return getattr(transport, "smtp", True) is None
