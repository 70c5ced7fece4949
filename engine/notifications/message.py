"""Turning a service task's mail parameters into an ``EmailMessage``.

Parameters follow camunda-bpm-mail's ``mail-send`` connector, plus Plūsma's ``template`` and
``language``:

=============  ==================================================================================
``to``         required; one or more addresses, a comma-separated string or a list
``cc``         optional, same forms
``bcc``        optional, same forms; only in the envelope, never in the delivered headers
``from``       optional sender address (``a@b.lv`` or ``Name <a@b.lv>``); default: the settings'
``fromAlias``  optional sender display name; default: the name in ``from``, else the settings'
``subject``    the subject (explicit mode)
``text``       the plain-text body (explicit mode)
``html``       the HTML body (explicit mode), sent as an alternative to ``text`` or alone
``template``   a template name: subject and bodies are rendered from it (template mode)
``language``   the template's language, "lv" (default) or "en"; unknown languages fall back to "lv"
=============  ==================================================================================

In template mode the template decides everything: ``subject``/``text``/``html`` are then just
variables it may use (the ``generic`` template does). In explicit mode the texts are sent as
given, not rendered. A parameter whose value is null counts as not given; other parameters are
allowed and are available to templates, next to the process variables (parameters win).
"""

from __future__ import annotations

from collections.abc import Mapping
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from .addresses import check_header_value, parse_addresses
from .errors import BadNotification
from .settings import SmtpSettings
from .templates import MailTemplates, normalise_language

#: The parameters the notifier itself interprets; any other parameter is only a template variable.
PARAMETERS = ("to", "cc", "bcc", "from", "fromAlias", "subject", "text", "html", "template", "language")

_shipped_templates: MailTemplates | None = None


def build_message(
    parameters: Mapping[str, Any],
    variables: Mapping[str, Any] | None,
    settings: SmtpSettings,
    templates: MailTemplates | None = None,
) -> EmailMessage:
    """The message the parameters describe; ``BadNotification`` naming the parameter when they are wrong."""
    params = {key: value for key, value in parameters.items() if value is not None}
    if "fileNames" in params:
        # camunda-bpm-mail's attachments are paths on the server: not something a process should choose.
        raise BadNotification("attachments are not supported", "fileNames")

    to = parse_addresses(params.get("to"), "to")
    if not to:
        raise BadNotification("no recipient given", "to")
    cc = parse_addresses(params.get("cc"), "cc")
    bcc = parse_addresses(params.get("bcc"), "bcc")
    sender = _sender(params, settings)

    template = params.get("template")
    if template not in (None, ""):
        templates = templates if templates is not None else _shipped()
        context = {"senderName": sender.display_name, **(variables or {}), **params}
        rendered = templates.render(template, context, params.get("language"))
        subject, text, html, language = rendered.subject, rendered.text, rendered.html, rendered.language
    else:
        subject = _text(params, "subject")
        text = _text(params, "text")
        html = _text(params, "html")
        language = normalise_language(params["language"]) if params.get("language") else None
        if not subject.strip():
            raise BadNotification("empty subject (give 'subject', or a 'template')", "subject")
        check_header_value(subject, "subject")
        if not text.strip() and not html.strip():
            raise BadNotification("no message: give 'text' and/or 'html', or a 'template'", "text")

    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    if bcc:
        # Kept on the message for send(), which takes the envelope from it; smtplib strips Bcc before sending.
        message["Bcc"] = bcc
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=sender.domain)
    # RFC 3834: tells out-of-office responders not to answer a notification.
    message["Auto-Submitted"] = "auto-generated"
    # Quoted-printable keeps the body 7-bit, so it passes servers without 8BITMIME; readers decode it.
    if text.strip():
        message.set_content(text, charset="utf-8", cte="quoted-printable")
        if html and html.strip():
            message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    else:
        message.set_content(html, subtype="html", charset="utf-8", cte="quoted-printable")
    if language:
        # After set_content(), which drops every Content-* header.
        message["Content-Language"] = language
    return message


def _sender(params: Mapping[str, Any], settings: SmtpSettings) -> Address:
    if params.get("from") not in (None, ""):
        found = parse_addresses(params["from"], "from")
        if len(found) != 1:
            raise BadNotification("expected exactly one sender address", "from")
        address = found[0]
    else:
        address = parse_addresses(settings.sender, "from")[0]  # checked by SmtpSettings
        address = Address(settings.sender_name, address.username, address.domain)
    alias = params.get("fromAlias")
    if alias not in (None, ""):
        if not isinstance(alias, str):
            raise BadNotification(f"expected a name, not {type(alias).__name__}", "fromAlias")
        address = Address(check_header_value(alias, "fromAlias").strip(), address.username, address.domain)
    return address


def _text(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name, "")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BadNotification(f"expected text, not {type(value).__name__}", name)
    return str(value)


def _shipped() -> MailTemplates:
    global _shipped_templates
    if _shipped_templates is None:
        _shipped_templates = MailTemplates()
    return _shipped_templates
