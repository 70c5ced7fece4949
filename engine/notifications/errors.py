"""What the notifier raises.

Two kinds, so the job layer (and whoever reads the incident) can tell them apart:

* ``BadNotification`` -- the notification itself is wrong: a missing or malformed parameter, an
  unknown template, a template that needs a variable the process does not have. Retrying cannot
  help; the process model or its data must be fixed. ``parameter`` names the parameter at fault.
* ``DeliveryFailed`` -- the message was fine but the mail server could not be reached or refused
  it (network error, timeout, TLS or login failure, an SMTP error reply). Usually transient, so
  worth retrying; ``smtp_code`` (when the server answered) tells 4xx (try again) from 5xx (won't).
"""

from __future__ import annotations

from engine.errors import PlusmaError


class NotificationError(PlusmaError):
    """Base of every error the notifier raises."""


class BadNotification(NotificationError, ValueError):
    """Permanent: the parameters, addresses or template are wrong; retrying will not help."""

    def __init__(self, message: str, parameter: str | None = None) -> None:
        self.parameter = parameter
        super().__init__(f"parameter '{parameter}': {message}" if parameter else message)


class UnknownTemplate(BadNotification):
    """The ``template`` parameter names no template; ``known`` lists the ones there are."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        listing = ", ".join(known) if known else "(none)"
        super().__init__(f"unknown template '{name}'; known templates: {listing}", "template")


class DeliveryFailed(NotificationError):
    """Transient as a rule: the mail server at ``host``:``port`` was unreachable or refused the message."""

    def __init__(self, message: str, host: str, port: int, smtp_code: int | None = None) -> None:
        self.host = host
        self.port = port
        self.smtp_code = smtp_code
        super().__init__(message)

    @property
    def permanent(self) -> bool:
        """True when the server answered with a 5xx code: the same message will be refused again."""
        return self.smtp_code is not None and self.smtp_code >= 500


class RecipientsRefused(DeliveryFailed):
    """The server refused some or all recipients.

    ``refused`` maps each refused address to the server's (code, reply). ``delivered`` is True when
    the server accepted the message for the other recipients -- a retry would send it to them again.
    """

    def __init__(self, host: str, port: int, refused: dict[str, tuple[int, str]], delivered: bool) -> None:
        self.refused = refused
        self.delivered = delivered
        details = "; ".join(f"{addr} ({code} {reply})" for addr, (code, reply) in refused.items())
        tail = " (delivered to the other recipients)" if delivered else ""
        codes = [code for code, _ in refused.values()]
        super().__init__(
            f"mail server {host}:{port} refused recipient(s): {details}{tail}",
            host,
            port,
            min(codes) if codes else None,
        )
