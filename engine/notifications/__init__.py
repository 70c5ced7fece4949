"""E-mail notifications from service tasks (Camunda's ``mail-send`` connector parameters).

A library: no Flask, no database. The engine's job layer calls ``EmailNotifier.notify`` with the
connector's input parameters and the process variables, records the returned Message-ID, and
retries or raises an incident on ``NotificationError``:

* ``BadNotification`` (a ``ValueError``) -- wrong parameters, addresses or template; ``parameter``
  names the culprit. Retrying will not help.
* ``DeliveryFailed`` -- the mail server was unreachable or refused; worth retrying.
  ``RecipientsRefused`` is the case where it refused some recipients (``refused``, ``delivered``).

See ``message.py`` for the parameters and ``templates/README.md`` for the shipped templates.
"""

from __future__ import annotations

from .errors import BadNotification, DeliveryFailed, NotificationError, RecipientsRefused, UnknownTemplate
from .message import PARAMETERS, build_message
from .notifier import EmailNotifier
from .settings import SECURITY_MODES, SmtpSettings, template_dirs_from_env
from .smtp import envelope, send
from .templates import DEFAULT_LANGUAGE, SHIPPED_TEMPLATES_DIR, MailTemplates, RenderedMail

__all__ = [
    "DEFAULT_LANGUAGE",
    "PARAMETERS",
    "SECURITY_MODES",
    "SHIPPED_TEMPLATES_DIR",
    "BadNotification",
    "DeliveryFailed",
    "EmailNotifier",
    "MailTemplates",
    "NotificationError",
    "RecipientsRefused",
    "RenderedMail",
    "SmtpSettings",
    "UnknownTemplate",
    "build_message",
    "envelope",
    "send",
    "template_dirs_from_env",
]
