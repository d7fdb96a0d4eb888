"""A real IMAP server for the tests: Debian's Dovecot, started in the foreground with a throwaway
configuration (passwd-file users, Maildir in a temporary folder, TLS with a self-signed certificate),
listening on 127.0.0.1 only: imaps on one port, imap with STARTTLS on another.

Dovecot refuses to give a mailbox to uid 0, so as root the mail belongs to `nobody`, in a folder
of its own under /tmp (pytest's folders are closed to other users). Messages are put in by IMAP
APPEND, as a mail server would deliver them.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

from support.smtp import free_port

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
auth_mechanisms = plain
auth_failure_delay = 0
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
{users_line}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service imap-login {{
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""


class Dovecot:
    """`with Dovecot(cert, key, {"lettre": "secret"}) as server:` on 127.0.0.1:`server.port` (imaps)."""

    def __init__(self, cert: Path, key: Path, users: dict[str, str]):
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        if not Path(binary).exists():
            raise RuntimeError(
                "Dovecot manque : installez le paquet Debian « dovecot-imapd » (scripts/test.sh le fait)"
            )
        self.binary, self.cert, self.users = binary, cert, users
        self.root = Path(tempfile.mkdtemp(prefix="newsletter-imap-"))
        self.root.chmod(0o755)
        self.port, self.starttls_port = free_port(), free_port()
        if os.geteuid() == 0:
            owner, users_line = pwd.getpwnam("nobody"), ""
        else:
            owner = pwd.getpwuid(os.geteuid())
            users_line = f"default_login_user = {owner.pw_name}\ndefault_internal_user = {owner.pw_name}"
        (self.root / "mail").mkdir()
        os.chown(self.root / "mail", owner.pw_uid, owner.pw_gid)
        (self.root / "passwd").write_text(
            "".join(
                f"{name}:{{PLAIN}}{password}:{owner.pw_uid}:{owner.pw_gid}::{self.root}/mail/{name}\n"
                for name, password in users.items()
            )
        )
        (self.root / "dovecot.conf").write_text(
            CONFIG.format(
                root=self.root,
                cert=cert,
                key=key,
                users_line=users_line,
                imap_port=self.starttls_port,
                imaps_port=self.port,
            )
        )

    def __enter__(self) -> Dovecot:
        self.process = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        self.__exit__()
        raise RuntimeError(f"Dovecot ne démarre pas : {self.log()}")

    def log(self) -> str:
        log = self.root / "dovecot.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""

    def append(self, user: str, messages: list[bytes], folder: str = "INBOX") -> None:
        """Deliver `messages` into `folder` of `user` (IMAP APPEND over TLS)."""
        context = ssl.create_default_context(cafile=str(self.cert))
        with imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=context) as imap:
            imap.login(user, self.users[user])
            for data in messages:
                status, reply = imap.append(folder, None, None, data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
                assert status == "OK", reply

    def count(self, user: str, folder: str = "INBOX") -> int:
        context = ssl.create_default_context(cafile=str(self.cert))
        with imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=context) as imap:
            imap.login(user, self.users[user])
            _, reply = imap.select(folder, readonly=True)
            return int(reply[0])

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)
