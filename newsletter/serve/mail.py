"""The confirmation and welcome emails: MJML templates rendered once, messages built by slots.

Each template (`templates/serve/confirm.*`, `welcome.*`, overridable by a project) is rendered when
the service starts, with the personal marks of `newsletter.render.personalize` where the greeting,
the confirmation link (the action mark) and the personal page go. One `MessageFactory` per kind is
made then too (the sending layer's one MIME builder, each message with its own Message-ID), so a
message costs what an issue's message costs, not a MIME build. Messages go through the configured
transport: outbox `.eml` files in `outbox/service/`, or SMTP.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

from newsletter.render.email import mjml_to_html
from newsletter.render.personalize import ACTION_MARK, GREETING_MARK, PROFILE_MARK
from newsletter.render.templates import environment
from newsletter.render.typography import typeset_settings
from newsletter.send import transports
from newsletter.send.config import SendingConfig
from newsletter.send.message import Letter, MessageFactory, Recipient
from newsletter.send.transports import SENT, TransportError
from newsletter.settings import Settings

CONFIRM, WELCOME = "confirm", "welcome"
SUBJECTS = {CONFIRM: "Confirmez votre inscription à {name}", WELCOME: "Bienvenue dans {name}"}
OUTBOX_FOLDER = "service"


class Mailer:
    def __init__(
        self,
        settings: Settings,
        root: Path | None,
        config: SendingConfig,
        secret: str,
        confirm_days: float,
        kind: str | None = None,
        latest: str = "",
    ):
        self.config = config
        self.make_transport = transports(config, kind or config.transport, config.outbox / OUTBOX_FOLDER)
        settings = typeset_settings(settings)  # the letter's name as readers see it
        base = settings.base_url
        agenda = f"{base}/calendars/agenda.ics"
        context = {
            "settings": settings,
            "greeting": GREETING_MARK,
            "link": ACTION_MARK,
            "profile": PROFILE_MARK,
            "days": f"{confirm_days:g}",
            "latest": latest or base + "/",
            "feed": f"{base}/feed.xml",
            "agenda": agenda,
            "webcal": re.sub(r"^https?://", "webcal://", agenda),
        }
        env = environment(root)
        now = dt.datetime.now(settings.tz)  # only the zone of each message's Date is taken from it
        self.factories = {}
        for name in (CONFIRM, WELCOME):
            subject = SUBJECTS[name].format(name=settings.name)
            mjml = env.get_template(f"serve/{name}.mjml").render(context, subject=subject)
            text = env.get_template(f"serve/{name}.txt").render(context, subject=subject)
            letter = Letter(
                number=0, date=now, subject=subject, html=mjml_to_html(mjml), text=text, greeting="Bonjour,"
            )
            self.factories[name] = MessageFactory(config, letter, secret, transactional=True)

    def send(self, name: str, recipient: Recipient, link: str = "") -> None:
        """Build and hand over one message; TransportError when the transport refuses it."""
        message = self.factories[name].build(recipient, action_url=link)
        transport = self.make_transport()
        try:
            transport.connect()
            outcome = transport.send(
                message.envelope, message.recipient, message.data, f"{name}-{recipient.id}-{time.time_ns()}"
            )
        finally:
            transport.close()
        if outcome.status != SENT:
            raise TransportError(f"message refusé : {outcome.reply}", temporary=outcome.status == "deferred")
