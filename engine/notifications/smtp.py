"""Handing a message to the mail server over SMTP (plain, STARTTLS or implicit TLS)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from .errors import BadNotification, DeliveryFailed, RecipientsRefused
from .settings import SmtpSettings


def envelope(message: EmailMessage) -> tuple[str, list[str]]:
    """The envelope sender and recipients (To, Cc and Bcc, each once) of a message from build_message."""
    senders = [a.addr_spec for a in _addresses(message, "From")]
    if len(senders) != 1:
        raise BadNotification("the message needs exactly one From address", "from")
    recipients = list(dict.fromkeys(a.addr_spec for name in ("To", "Cc", "Bcc") for a in _addresses(message, name)))
    if not recipients:
        raise BadNotification("no recipient given", "to")
    return senders[0], recipients


def send(message: EmailMessage, settings: SmtpSettings) -> None:
    """Deliver ``message`` to the mail server; ``DeliveryFailed`` (naming host:port) when that fails.

    Success means the server accepted the message for every recipient, not that it reached the
    mailbox: later bounces go to the sender address.
    """
    sender, recipients = envelope(message)
    where = f"{settings.host}:{settings.port}"
    try:
        if settings.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with client:
            if settings.security == "starttls":
                # Certificates are verified against the system's CAs (SSL_CERT_FILE names others).
                client.starttls(context=ssl.create_default_context())
            if settings.username:
                client.login(settings.username, settings.password or "")
            refused = client.send_message(message, sender, recipients)
    except smtplib.SMTPRecipientsRefused as exc:
        raise RecipientsRefused(settings.host, settings.port, _decoded(exc.recipients), delivered=False) from exc
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryFailed(
            f"mail server {where} refused the login of '{settings.username}': {exc.smtp_code} {_reply(exc.smtp_error)}",
            settings.host,
            settings.port,
            exc.smtp_code,
        ) from exc
    except smtplib.SMTPSenderRefused as exc:
        raise DeliveryFailed(
            f"mail server {where} refused the sender {_reply(exc.sender)}: {exc.smtp_code} {_reply(exc.smtp_error)}",
            settings.host,
            settings.port,
            exc.smtp_code,
        ) from exc
    except smtplib.SMTPResponseException as exc:
        raise DeliveryFailed(
            f"mail server {where} refused the message: {exc.smtp_code} {_reply(exc.smtp_error)}",
            settings.host,
            settings.port,
            exc.smtp_code,
        ) from exc
    except (smtplib.SMTPException, OSError) as exc:
        # OSError covers refused connections, timeouts, name resolution and TLS (ssl.SSLError) failures.
        raise DeliveryFailed(
            f"could not send e-mail via {where}: {type(exc).__name__}: {exc}", settings.host, settings.port
        ) from exc
    if refused:
        raise RecipientsRefused(settings.host, settings.port, _decoded(refused), delivered=True)


def _addresses(message: EmailMessage, name: str) -> list:
    addresses = []
    for header in message.get_all(name, []):
        addresses.extend(getattr(header, "addresses", ()))
    return addresses


def _decoded(refused: dict) -> dict[str, tuple[int, str]]:
    return {addr: (code, _reply(reply)) for addr, (code, reply) in refused.items()}


def _reply(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
