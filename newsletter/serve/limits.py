"""Rate limits kept in SQLite, so they hold across restarts and between the server's threads.

One row per key and window (`rate_limits`); a hit is one UPSERT that returns the new count. Keys are
keyed hashes (`a:` an address, `c:` a client), never the address or IP itself.
"""

from __future__ import annotations

import sqlite3
import time

from newsletter.send.tokens import keyed_digest

DAY, HOUR = 86_400, 3_600


class Limits:
    def __init__(self, secret: str, clock=time.time):
        self.secret, self.clock = secret, clock

    def allow(self, db: sqlite3.Connection, kind: str, value: str, limit: int, window: int) -> bool:
        """Count one hit of `value` for `kind`; False once more than `limit` fall in the window."""
        now = int(self.clock())
        key = f"{kind}:{keyed_digest(self.secret, 'limit:' + kind, value)[:24]}"
        start = now - now % window
        row = db.execute(
            "INSERT INTO rate_limits (key, window, count) VALUES (?, ?, 1) "
            "ON CONFLICT (key, window) DO UPDATE SET count = count + 1 RETURNING count",
            (key, start),
        ).fetchone()
        if row[0] == 1 and now % 97 == 0:  # now and then, forget old windows
            db.execute("DELETE FROM rate_limits WHERE window < ?", (now - 2 * DAY,))
        return row[0] <= limit
