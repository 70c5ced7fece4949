"""The notifier as the engine uses it: settings and templates once, then ``notify`` per service task."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from email.message import EmailMessage
from typing import Any

from .message import build_message
from .settings import SmtpSettings, template_dirs_from_env
from .smtp import send
from .templates import MailTemplates


class EmailNotifier:
    """Builds and sends notifications; ``template_dirs`` are searched before the shipped templates."""

    def __init__(
        self, settings: SmtpSettings | None = None, template_dirs: Iterable[str | os.PathLike[str]] = ()
    ) -> None:
        self.settings = settings if settings is not None else SmtpSettings()
        self.templates = MailTemplates(template_dirs)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> EmailNotifier:
        """From ``PLUSMA_SMTP_*``, ``PLUSMA_MAIL_FROM[_NAME]`` and ``PLUSMA_MAIL_TEMPLATES``."""
        return cls(SmtpSettings.from_env(environ), template_dirs_from_env(environ))

    def build(self, parameters: Mapping[str, Any], variables: Mapping[str, Any] | None = None) -> EmailMessage:
        return build_message(parameters, variables, self.settings, self.templates)

    def notify(self, parameters: Mapping[str, Any], variables: Mapping[str, Any] | None = None) -> str:
        """Build and send one notification; returns its Message-ID (for the history).

        Raises ``BadNotification`` before anything is sent, ``DeliveryFailed`` when the server fails.
        """
        message = self.build(parameters, variables)
        send(message, self.settings)
        return str(message["Message-ID"])
