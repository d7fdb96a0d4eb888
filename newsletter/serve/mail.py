"""The confirmation and welcome emails: MJML templates rendered once, sent one by one.

Each template (`templates/serve/confirm.*`, `welcome.*`, overridable by a project) is rendered when
the service starts, with marks where the personal links go; per message the marks are replaced and
the result goes through the sending layer's one MIME builder (`MessageFactory`, with its own
Message-ID) and the configured transport: outbox `.eml` files in `outbox/service/`, or SMTP.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import time
from dataclasses import dataclass
from pathlib import Path

from newsletter.render.email import mjml_to_html
from newsletter.render.personalize import GREETING_MARK
from newsletter.render.templates import environment
from newsletter.send import transports
from newsletter.send.config import SendingConfig
from newsletter.send.message import Letter, MessageFactory, Recipient
from newsletter.send.transports import SENT, TransportError
from newsletter.settings import Settings

LINK_MARK, PROFILE_MARK = "%%LINK%%", "%%PROFILE%%"
CONFIRM, WELCOME = "confirm", "welcome"
SUBJECTS = {CONFIRM: "Confirmez votre inscription à {name}", WELCOME: "Bienvenue dans {name}"}
OUTBOX_FOLDER = "service"


@dataclass(frozen=True)
class Template:
    subject: str
    html: str
    text: str


class Mailer:
    def __init__(self, settings: Settings, root: Path | None, config: SendingConfig, secret: str, confirm_days: float,
                 kind: str | None = None, latest: str = ""):
        self.settings, self.config, self.secret = settings, config, secret
        self.kind = kind or config.transport
        self.make_transport = transports(config, self.kind, config.outbox / OUTBOX_FOLDER)
        base = settings.base_url
        context = {
            "settings": settings, "greeting": GREETING_MARK, "link": LINK_MARK, "profile": PROFILE_MARK,
            "days": f"{confirm_days:g}", "latest": latest or base + "/", "feed": f"{base}/feed.xml",
            "agenda": f"{base}/calendars/agenda.ics", "webcal": re.sub(r"^https?://", "webcal://", f"{base}/calendars/agenda.ics"),
        }
        env = environment(root)
        self.templates = {}
        for name in (CONFIRM, WELCOME):
            subject = SUBJECTS[name].format(name=settings.name)
            mjml = env.get_template(f"serve/{name}.mjml").render(context, subject=subject)
            text = env.get_template(f"serve/{name}.txt").render(context, subject=subject)
            self.templates[name] = Template(subject, mjml_to_html(mjml), text)

    def send(self, name: str, recipient: Recipient, link: str, profile: str) -> None:
        """Build and hand over one message; TransportError when the transport refuses it."""
        template = self.templates[name]
        letter = Letter(
            number=0,
            date=dt.datetime.now(self.settings.tz).replace(microsecond=0),
            subject=template.subject,
            html=_fill(template.html, link, profile, html.escape),
            text=_fill(template.text, link, profile, str),
            greeting="Bonjour,",
        )
        message = MessageFactory(self.config, letter, self.secret, transactional=True).build(recipient)
        transport = self.make_transport()
        try:
            transport.connect()
            outcome = transport.send(self.config.sender_address, message.recipient, message.data,
                                     f"{name}-{recipient.id}-{time.time_ns()}")
        finally:
            transport.close()
        if outcome.status != SENT:
            raise TransportError(f"message refusé : {outcome.reply}", temporary=outcome.status == "deferred")


def _fill(text: str, link: str, profile: str, escape) -> str:
    return text.replace(LINK_MARK, escape(link)).replace(PROFILE_MARK, escape(profile))
