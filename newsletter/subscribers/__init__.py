"""Subscribers: the SQLite store (with the delivery journal's table), addresses, CSV import/export."""

from newsletter.subscribers.addresses import AddressError, normalize_address
from newsletter.subscribers.database import DatabaseError, open_database
from newsletter.subscribers.store import STATUSES, Subscriber, SubscriberError, SubscriberStore

__all__ = [
    "STATUSES",
    "AddressError",
    "DatabaseError",
    "Subscriber",
    "SubscriberError",
    "SubscriberStore",
    "normalize_address",
    "open_database",
]
