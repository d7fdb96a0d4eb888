"""The sending loop: journal → messages → N connections, resumable at any instant.

The calling thread runs rounds and reports progress; in each round a feeder thread reads the rows
that are due page by page (memory stays flat whatever the number of subscribers) and hands them to
the connections through a small bounded queue, holding back the messages of a domain whose pace
(`[sending.domains]`) says not yet while other domains go on. Each worker thread owns one
connection, builds each message, claims its row, sends, and records the outcome (written in groups,
see `journal`).

A temporary refusal (4xx) defers the message: the journal keeps when it may be tried again. The run
waits for a retry only when it is due soon (`wait`); later ones are left to the next run, so that a
scheduled rerun of the same command settles everything. A server that cannot be reached (a refused
connection, a 421 greeting) is tried again a few times with a growing pause before the run gives up
and leaves the rest waiting. Ctrl-C stops the feeding: messages already on their way finish and are
recorded, the rest stay queued for the next run.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from newsletter.send.journal import QUEUED, Journal, Pending
from newsletter.send.message import MessageError, MessageFactory, Recipient
from newsletter.send.ratelimit import DomainPacer, RateLimiter
from newsletter.send.transports import DEFERRED, FAILED, UNKNOWN, Outcome, Transport, TransportError

SKIPPED = "skipped"
PAGE = 500
HELD_PER_DOMAIN = 200  # messages held back for one paced domain; past this, they wait for the next pass
HELD_IN_ALL = 5000
TICK = 0.2  # seconds: how often waiting threads look at the stop flag


@dataclass
class Summary:
    total: int = 0
    outcomes: Counter = field(default_factory=Counter)
    recovered: int = 0
    elapsed: float = 0.0
    error: str | None = None
    temporary: bool = False  # the error may go away by itself (server unreachable): rerun later
    interrupted: bool = False
    counts: dict[str, int] = field(default_factory=dict)  # the journal's counts after the run
    next_due: dt.datetime | None = None  # when the earliest deferred message may be tried again

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
        domains: dict[str, float] | None = None,
        wait: float = 120.0,
        reconnect: int = 3,
        reconnect_delay: float = 5.0,
        resend_unknown: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.journal, self.factory, self.new_transport = journal, factory, transport
        self.connections, self.wait = connections, wait
        self.reconnect, self.reconnect_delay = reconnect, reconnect_delay
        self.first_round = (QUEUED, DEFERRED, UNKNOWN) if resend_unknown else (QUEUED, DEFERRED)
        self.limiter = RateLimiter(rate)
        self.pacer = DomainPacer(domains or {})
        self.sleep = sleep
        self.stop = threading.Event()
        self.summary = Summary()
        self.in_flight: set[int] = set()
        self.in_flight_lock = threading.Lock()

    def prepare(self) -> int:
        """Queue the issue for every subscribed address; return how many messages this run will send now."""
        self.summary.recovered = self.journal.prepare()
        self.summary.total = self.journal.count_pending(self.first_round)
        return self.summary.total

    def run(self, progress: Callable[[str], None] = lambda status: None) -> Summary:
        started = time.monotonic()
        statuses = self.first_round
        self.journal.start()
        try:
            while True:
                self._round(statuses, progress)
                statuses, progress = (QUEUED, DEFERRED), lambda status: None  # the bar counts first tries
                if self.stop.is_set() or not self._wait_for_retries():
                    break
        except KeyboardInterrupt:
            self.summary.interrupted = True
            self.stop.set()
        finally:
            self.journal.finish()
        self.summary.elapsed = time.monotonic() - started
        self.summary.counts = self.journal.counts()
        self.summary.next_due = self.journal.next_due()
        return self.summary

    def _wait_for_retries(self) -> bool:
        """Sleep until the next deferred message is due if that is soon; False to end the run."""
        due = self.journal.next_due()
        if due is None:
            return False
        delay = (due - dt.datetime.now(dt.UTC)).total_seconds()
        if delay > self.wait:
            return False
        self.sleep(max(delay, 0.0))
        return True

    def _round(self, statuses: tuple[str, ...], progress: Callable[[str], None]) -> None:
        jobs: queue.Queue = queue.Queue(maxsize=self.connections * 16)
        events: queue.Queue = queue.Queue()
        workers = [
            threading.Thread(target=self._work, args=(jobs, events), name=f"smtp-{n}", daemon=True)
            for n in range(self.connections)
        ]
        feeder = threading.Thread(target=self._feed, args=(jobs, statuses), name="feeder", daemon=True)
        for thread in (*workers, feeder):
            thread.start()
        running = len(workers)
        while running:
            try:
                kind, status = events.get(timeout=TICK)
            except queue.Empty:
                self.journal.flush_if_due()
                continue
            except KeyboardInterrupt:  # let the messages on their way finish, then report
                self.summary.interrupted = True
                self.stop.set()
                continue
            if kind == "end":
                running -= 1
            elif status != SKIPPED:
                self.summary.outcomes[status] += 1
                progress(status)
            self.journal.flush_if_due()
        feeder.join()
        self.journal.flush()

    # The feeder: rows due, in id order, paced per domain ------------------------------------------

    def _feed(self, jobs: queue.Queue, statuses: tuple[str, ...]) -> None:
        try:
            while not self.stop.is_set() and self._pass(jobs, statuses):
                pass  # some rows of a paced domain were left for another pass
        finally:
            for _ in range(self.connections):
                jobs.put(None)

    def _pass(self, jobs: queue.Queue, statuses: tuple[str, ...]) -> bool:
        """Hand over every row due once; True if rows of a paced domain had to be left for later."""
        held: dict[str, deque[Pending]] = {}
        left_over, after = False, 0
        while not self.stop.is_set():
            page = self.journal.pending(statuses, after, PAGE)
            if not page:
                break
            for item in page:
                self._release(jobs, held)
                if item.subscriber_id not in self.in_flight and not self._offer(jobs, held, item):
                    left_over = True
            after = page[-1].subscriber_id
        while held and not self.stop.is_set():
            if not self._release(jobs, held):
                self._pause_until(min(self.pacer.ready_at(domain) for domain in held))
        return left_over

    def _offer(self, jobs: queue.Queue, held: dict[str, deque[Pending]], item: Pending) -> bool:
        """Hand `item` over now, or hold it back until its domain's slot; False if there is no room."""
        domain = item.address.rpartition("@")[2]
        if not self.pacer.paced(domain):
            return self._put(jobs, item)
        if domain not in held and self.pacer.ready_at(domain) <= time.monotonic():
            self.pacer.take(domain)
            return self._put(jobs, item)
        waiting = held.setdefault(domain, deque())
        if len(waiting) >= HELD_PER_DOMAIN or sum(map(len, held.values())) >= HELD_IN_ALL:
            return False
        waiting.append(item)
        return True

    def _release(self, jobs: queue.Queue, held: dict[str, deque[Pending]]) -> int:
        """Hand over the held messages whose domain's slot has come; how many went."""
        released, now = 0, time.monotonic()
        for domain in [domain for domain in held if self.pacer.ready_at(domain) <= now]:
            self.pacer.take(domain)
            self._put(jobs, held[domain].popleft())
            released += 1
            if not held[domain]:
                del held[domain]
        return released

    def _pause_until(self, moment: float) -> None:
        self.stop.wait(min(max(moment - time.monotonic(), 0.0), TICK))

    def _put(self, jobs: queue.Queue, item: Pending) -> bool:
        with self.in_flight_lock:
            self.in_flight.add(item.subscriber_id)
        while not self.stop.is_set():
            try:
                jobs.put(item, timeout=TICK)
                return True
            except queue.Full:
                continue
        return True  # stopping: nothing more goes out, and nothing is lost

    # The workers: one connection each ------------------------------------------------------------

    def _work(self, jobs: queue.Queue, events: queue.Queue) -> None:
        transport = self.new_transport()
        try:
            while (item := jobs.get()) is not None:
                status = SKIPPED if self.stop.is_set() else self._deliver(transport, item)
                with self.in_flight_lock:
                    self.in_flight.discard(item.subscriber_id)
                events.put(("done", status))
        finally:
            try:
                transport.close()
            finally:
                events.put(("end", None))

    def _deliver(self, transport: Transport, item: Pending) -> str:
        journal, attempts = self.journal, item.attempts + 1
        try:
            message = self.factory.build(Recipient(item.subscriber_id, item.address, item.name))
        except MessageError as error:
            if not journal.claim(item, ""):
                return SKIPPED
            journal.record(item.subscriber_id, Outcome(FAILED, str(error)), attempts)
            return FAILED
        if not self._connect(transport):
            return SKIPPED
        self.limiter.wait()
        self.sleep(self.pacer.before_send(message.recipient.rpartition("@")[2]))
        if not journal.claim(item, message.message_id):
            return SKIPPED
        try:
            outcome = transport.send(
                message.envelope,
                message.recipient,
                message.data,
                f"{item.subscriber_id:06d}-{message.recipient}",
            )
        except TransportError as error:  # nothing was handed over (an outbox that cannot be written)
            journal.record(item.subscriber_id, Outcome(DEFERRED, str(error)), attempts)
            return self._fail(error)
        except Exception as error:  # a bug: say so, and keep the journal honest
            journal.record(item.subscriber_id, Outcome(UNKNOWN, f"erreur interne : {error!r}"), attempts)
            return self._fail(TransportError(f"erreur interne pendant l’envoi à {message.recipient} : {error!r}"))
        journal.record(item.subscriber_id, outcome, attempts)
        return outcome.status

    def _connect(self, transport: Transport) -> bool:
        """Connect if needed, trying again after a growing pause while the failure is temporary."""
        for attempt in range(self.reconnect + 1):
            try:
                transport.connect()
                return True
            except TransportError as error:
                if not error.temporary or attempt == self.reconnect or self.stop.is_set():
                    self._fail(error)
                    return False
                self.sleep(self.reconnect_delay * 2**attempt)
        return False

    def _fail(self, error: TransportError) -> str:
        if self.summary.error is None:
            self.summary.error, self.summary.temporary = str(error), error.temporary
        self.stop.set()
        return SKIPPED


def send_test(factory: MessageFactory, transport: Transport, recipients: list[Recipient]) -> list[Outcome]:
    """Send the letter to each test recipient, outside the journal; one outcome per recipient."""
    outcomes = []
    transport.connect()
    try:
        for recipient in recipients:
            message = factory.build(recipient)
            outcomes.append(transport.send(message.envelope, message.recipient, message.data, message.recipient))
            if transport_needs_reconnect(transport):
                transport.connect()
    finally:
        transport.close()
    return outcomes


def transport_needs_reconnect(transport: Transport) -> bool:
    return getattr(transport, "smtp", True) is None
