"""The e-mail notifier (engine.notifications) against a real SMTP server (aiosmtpd) on 127.0.0.1.

Pure library tests: no database, no Flask. Every delivered message is read back from the server
and parsed, so encodings (Latvian diacritics), headers and envelopes are checked as received.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from engine.notifications import (
    BadNotification,
    DeliveryFailed,
    EmailNotifier,
    MailTemplates,
    RecipientsRefused,
    SmtpSettings,
    UnknownTemplate,
    build_message,
    send,
    template_dirs_from_env,
)

VARIABLES = {"businessKey": "PIET-2024-0042", "temats": "Piekļuve <ĢIS> & e-pastam"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Recorder:
    """aiosmtpd handler: keeps every envelope; refuses the recipients in ``refuse`` with 550."""

    def __init__(self) -> None:
        self.envelopes: list = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]

    def only(self) -> tuple[object, EmailMessage]:
        assert len(self.envelopes) == 1, f"expected one delivered message, got {len(self.envelopes)}"
        return self.envelopes[0], self.messages()[0]


@contextmanager
def recording_smtp_server() -> Iterator[tuple[Recorder, int]]:
    """A plain local SMTP server on a free port that keeps every message: (recorder, port)."""
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def smtp_server():
    with recording_smtp_server() as server:
        yield server


@pytest.fixture
def server(smtp_server):
    handler, port = smtp_server
    handler.envelopes.clear()
    handler.refuse.clear()
    return handler


@pytest.fixture
def settings(smtp_server) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=smtp_server[1], timeout=5, sender="pieteikumi@iestade.example.lv")


@pytest.fixture
def notifier(settings) -> EmailNotifier:
    return EmailNotifier(settings)


def body(message: EmailMessage, subtype: str = "plain") -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part"
    return part.get_content().replace("\r\n", "\n")  # as received: SMTP line ends


# --- templates, delivered ---------------------------------------------------------------------


def test_latvian_template_delivered_with_diacritics_and_html(notifier, server):
    message_id = notifier.notify({"to": "janis@example.lv", "template": "request_registered"}, VARIABLES)

    envelope, received = server.only()
    assert envelope.mail_from == "pieteikumi@iestade.example.lv"
    assert envelope.rcpt_tos == ["janis@example.lv"]
    assert received["Message-ID"] == message_id
    assert message_id.endswith("@iestade.example.lv>")
    assert received["Date"] is not None
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["Content-Language"] == "lv"
    assert str(received["Subject"]) == "Pieteikums Nr. PIET-2024-0042 reģistrēts"
    assert received["From"].addresses[0].display_name == "Plūsma"
    # Headers RFC 2047-encoded, bodies quoted-printable: 7-bit on the wire, for servers without 8BITMIME.
    assert max(envelope.content) < 128

    assert received.get_content_type() == "multipart/alternative"
    text = body(received)
    assert "Labdien!" in text
    assert "Jūsu pieteikums Nr. PIET-2024-0042 ir reģistrēts." in text
    assert "Temats: Piekļuve <ĢIS> & e-pastam" in text  # plain text: not escaped
    assert "Ar cieņu\nPlūsma" in text
    html = body(received, "html")
    assert 'lang="lv"' in html
    assert "Nr. <strong>PIET-2024-0042</strong> ir reģistrēts" in html
    assert "Piekļuve &lt;ĢIS&gt; &amp; e-pastam" in html  # HTML: escaped
    for part in received.walk():
        if part.get_content_maintype() == "text":
            assert part.get_content_charset() == "utf-8"


def test_english_template(notifier, server):
    notifier.notify(
        {"to": "john@example.lv", "template": "request_refused", "language": "en"},
        {**VARIABLES, "pamatojums": "Pieprasītājam nav tiesību uz šo pakalpojumu."},
    )
    _, received = server.only()
    assert str(received["Subject"]) == "Request No. PIET-2024-0042: the service has been refused"
    assert received["Content-Language"] == "en"
    text = body(received)
    assert "decided to refuse the requested service" in text
    assert "Reason:\nPieprasītājam nav tiesību uz šo pakalpojumu." in text
    assert 'lang="en"' in body(received, "html")


@pytest.mark.parametrize(("language", "expected"), [("EN-gb", "en"), ("de", "lv"), ("", "lv"), (None, "lv")])
def test_language_normalised_and_falls_back_to_latvian(notifier, language, expected):
    message = notifier.build({"to": "a@example.lv", "template": "request_closed", "language": language}, VARIABLES)
    assert message["Content-Language"] == expected


def test_every_shipped_template_renders_in_both_languages():
    templates = MailTemplates()
    available = templates.available()
    assert set(available) == {
        "request_registered",
        "request_granted",
        "request_refused",
        "request_resolved",
        "request_closed",
        "feedback_received",
        "feedback_answered",
        "generic",
    }
    context = {
        **VARIABLES,
        "pamatojums": "p",
        "rezultats": "r",
        "atbilde": "a",
        "subject": "s",
        "text": "t",
        "senderName": "Iestāde",
    }
    for name, languages in available.items():
        assert languages == ["en", "lv"]
        for language in languages:
            rendered = templates.render(name, context, language)
            assert rendered.subject and "\n" not in rendered.subject
            assert rendered.text.endswith("\n") and "{" not in rendered.text
            assert rendered.html is None if name == "generic" else "</html>" in rendered.html


@pytest.mark.parametrize(
    ("veids", "subject", "sentence"),
    [
        ("sudziba", "Sūdzība Nr. PIET-2024-0042 saņemta", "Jūsu sūdzība Nr. PIET-2024-0042 ir saņemta un reģistrēta."),
        (
            "ierosinajums",
            "Ierosinājums Nr. PIET-2024-0042 saņemts",
            "Jūsu ierosinājums Nr. PIET-2024-0042 ir saņemts un reģistrēts.",
        ),
        (None, "Iesniegums Nr. PIET-2024-0042 saņemts", "Jūsu iesniegums Nr. PIET-2024-0042 ir saņemts un reģistrēts."),
    ],
)
def test_feedback_received_agrees_in_gender(veids, subject, sentence):
    variables = {**VARIABLES, "veids": veids} if veids else VARIABLES
    rendered = MailTemplates().render("feedback_received", {**variables, "senderName": "Iestāde"})
    assert rendered.subject == subject
    assert sentence in rendered.text


def test_generic_template_takes_subject_and_text_from_parameters(notifier, server):
    notifier.notify(
        {
            "to": "a@example.lv",
            "template": "generic",
            "subject": "Atgādinājums: pārbaude rīt",
            "text": "Lūdzu, ņemiet līdzi dokumentus.",
            "fromAlias": "Valsts kanceleja",
        },
        {},
    )
    _, received = server.only()
    assert str(received["Subject"]) == "Atgādinājums: pārbaude rīt"
    assert received["From"].addresses[0].display_name == "Valsts kanceleja"
    assert received.get_content_type() == "text/plain"
    text = body(received)
    assert text.startswith("Lūdzu, ņemiet līdzi dokumentus.\n")
    assert "Ar cieņu\nValsts kanceleja" in text  # senderName follows fromAlias


# --- explicit subject and text ----------------------------------------------------------------


def test_explicit_subject_and_text_with_cc_and_bcc(notifier, server):
    notifier.notify(
        {
            "to": ['"Bērziņš, Jānis" <janis@example.lv>', "anna@example.lv"],
            "cc": "vaditajs@example.lv",
            "bcc": "arhivs@example.lv, janis@example.lv",
            "from": "KAC <kac@iestade.example.lv>",
            "subject": "Jūsu pieprasījums — ātri izskatīts",
            "text": "Šī ir ziņa ar garumzīmēm: āčēģīķļņšūž ĀČĒĢĪĶĻŅŠŪŽ.",
        },
        {},
    )
    envelope, received = server.only()
    assert envelope.mail_from == "kac@iestade.example.lv"
    assert envelope.rcpt_tos == [
        "janis@example.lv",
        "anna@example.lv",
        "vaditajs@example.lv",
        "arhivs@example.lv",
    ]  # each address once
    assert [a.display_name for a in received["To"].addresses] == ["Bērziņš, Jānis", ""]
    assert str(received["Cc"]) == "vaditajs@example.lv"
    assert received["Bcc"] is None  # blind copies stay out of the delivered headers
    assert b"arhivs@" not in envelope.content
    assert received["From"].addresses[0].display_name == "KAC"
    assert str(received["Subject"]) == "Jūsu pieprasījums — ātri izskatīts"
    assert received.get_content_type() == "text/plain"
    assert body(received).strip() == "Šī ir ziņa ar garumzīmēm: āčēģīķļņšūž ĀČĒĢĪĶĻŅŠŪŽ."
    assert "Content-Language" not in received


def test_explicit_html_only_and_text_plus_html(notifier):
    html_only = notifier.build({"to": "a@example.lv", "subject": "S", "html": "<p>Sveiki, <b>Jāni</b>!</p>"}, {})
    assert html_only.get_content_type() == "text/html"
    both = notifier.build({"to": "a@example.lv", "subject": "S", "text": "Sveiki!", "html": "<p>Sveiki!</p>"}, {})
    assert both.get_content_type() == "multipart/alternative"
    assert body(both) == "Sveiki!\n"
    assert body(both, "html") == "<p>Sveiki!</p>\n"  # explicit html is sent as given, not escaped


def test_null_parameters_count_as_absent(notifier):
    message = notifier.build(
        {"to": "a@example.lv", "cc": None, "bcc": "", "template": "request_closed", "language": None, "from": None},
        {**VARIABLES, "atbilde": None},
    )
    assert message["Cc"] is None and message["Bcc"] is None
    assert "None" not in body(message)


def test_international_domain_converted_to_ascii(notifier, server):
    notifier.notify({"to": "info@ģimene.lv", "subject": "S", "text": "T"}, {})
    envelope, received = server.only()
    assert envelope.rcpt_tos == ["info@xn--imene-71a.lv"]
    assert received["To"].addresses[0].domain == "xn--imene-71a.lv"


# --- refused notifications (BadNotification) --------------------------------------------------


def test_missing_template_variable_names_template_line_and_variable(notifier, server):
    with pytest.raises(BadNotification) as caught:
        notifier.notify({"to": "a@example.lv", "template": "request_refused"}, VARIABLES)
    message = str(caught.value)
    assert caught.value.parameter == "template"
    assert "request_refused.lv.txt, line 8" in message
    assert "variable 'pamatojums' is not set" in message
    assert server.envelopes == []


def test_missing_variable_in_subject_line():
    with pytest.raises(BadNotification, match=r"request_registered\.en\.txt, line 1: variable 'businessKey'"):
        MailTemplates().render("request_registered", {"senderName": "x"}, "en")


def test_unknown_template_lists_known_ones(notifier):
    with pytest.raises(UnknownTemplate) as caught:
        notifier.build({"to": "a@example.lv", "template": "pieteikums_registrets"}, VARIABLES)
    assert isinstance(caught.value, BadNotification) and caught.value.parameter == "template"
    assert "unknown template 'pieteikums_registrets'" in str(caught.value)
    assert "request_registered" in caught.value.known and "generic" in caught.value.known
    assert "request_registered" in str(caught.value)


@pytest.mark.parametrize("name", ["../etc/passwd", "request_registered.lv", "_footer", 5])
def test_template_name_must_be_a_plain_name(notifier, name):
    with pytest.raises(BadNotification) as caught:
        notifier.build({"to": "a@example.lv", "template": name, "text": "x", "subject": "y"}, VARIABLES)
    assert caught.value.parameter == "template"


@pytest.mark.parametrize(
    ("parameters", "parameter"),
    [
        ({"subject": "Sveiki\r\nBcc: visi@example.lv"}, "subject"),
        ({"subject": "Sveiki\nX-Injected: 1"}, "subject"),
        ({"subject": "Sveiki\u2028X-Injected: 1"}, "subject"),
        ({"to": "a@example.lv\r\nBcc: b@example.lv"}, "to"),
        ({"cc": ["ok@example.lv", "b@example.lv\nSubject: x"]}, "cc"),
        ({"fromAlias": "KAC\r\nReply-To: evil@example.lv"}, "fromAlias"),
        ({"from": "kac@example.lv\nBcc: x@example.lv"}, "from"),
    ],
)
def test_header_injection_refused(notifier, server, parameters, parameter):
    base = {"to": "a@example.lv", "subject": "S", "text": "T"}
    with pytest.raises(BadNotification, match="header injection") as caught:
        notifier.notify({**base, **parameters}, {})
    assert caught.value.parameter == parameter
    assert server.envelopes == []


def test_line_break_in_a_variable_cannot_break_a_rendered_subject(notifier):
    message = notifier.build(
        {"to": "a@example.lv", "template": "request_registered"}, {"businessKey": "X-1\r\nBcc: evil@example.lv"}
    )
    assert message["Subject"] == "Pieteikums Nr. X-1 Bcc: evil@example.lv reģistrēts"
    assert message["Bcc"] is None


@pytest.mark.parametrize(
    "address",
    ["not an address", "janis@", "@example.lv", "a@b@example.lv", "a@example.lv;b@example.lv", "a@-bad-.lv", "a@x..lv"],
)
def test_bad_addresses_refused(notifier, address):
    with pytest.raises(BadNotification, match="not a valid") as caught:
        notifier.build({"to": address, "subject": "S", "text": "T"}, {})
    assert caught.value.parameter == "to"
    with pytest.raises(BadNotification) as caught:
        notifier.build({"to": "ok@example.lv", "bcc": [address], "subject": "S", "text": "T"}, {})
    assert caught.value.parameter == "bcc"


@pytest.mark.parametrize("value", [42, {"a": "b"}, [1]])
def test_addresses_must_be_strings(notifier, value):
    with pytest.raises(BadNotification, match="expected") as caught:
        notifier.build({"to": value, "subject": "S", "text": "T"}, {})
    assert caught.value.parameter == "to"


@pytest.mark.parametrize("parameters", [{}, {"to": ""}, {"to": []}, {"to": None}, {"to": " , "}])
def test_no_recipient_refused(notifier, parameters):
    with pytest.raises(BadNotification, match="no recipient") as caught:
        notifier.build({"subject": "S", "text": "T", **parameters}, {})
    assert caught.value.parameter == "to"


def test_sender_must_be_one_address(notifier):
    with pytest.raises(BadNotification, match="exactly one") as caught:
        notifier.build({"to": "a@example.lv", "from": "a@example.lv, b@example.lv", "subject": "S", "text": "T"}, {})
    assert caught.value.parameter == "from"


@pytest.mark.parametrize(
    ("parameters", "parameter", "match"),
    [
        ({"text": "T"}, "subject", "empty subject"),
        ({"subject": "  ", "text": "T"}, "subject", "empty subject"),
        ({"subject": "S"}, "text", "give 'text' and/or 'html', or a 'template'"),
        ({"subject": "S", "text": "", "html": " "}, "text", "no message"),
        ({"subject": ["S"], "text": "T"}, "subject", "expected text"),
        ({"subject": "S", "text": "T", "fileNames": ["/etc/passwd"]}, "fileNames", "attachments"),
        ({"subject": "S", "text": "T", "language": "../lv"}, "language", "language code"),
    ],
)
def test_explicit_mode_validation(notifier, parameters, parameter, match):
    with pytest.raises(BadNotification, match=match) as caught:
        notifier.build({"to": "a@example.lv", **parameters}, {})
    assert caught.value.parameter == parameter
    assert isinstance(caught.value, ValueError)


# --- delivery failures (DeliveryFailed) -------------------------------------------------------


def test_server_down_names_host_and_port():
    port = free_port()  # nothing listens there
    notifier = EmailNotifier(SmtpSettings(host="127.0.0.1", port=port, timeout=2))
    with pytest.raises(DeliveryFailed) as caught:
        notifier.notify({"to": "a@example.lv", "subject": "S", "text": "T"}, {})
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "ConnectionRefusedError" in str(caught.value)
    assert (caught.value.host, caught.value.port, caught.value.smtp_code) == ("127.0.0.1", port, None)
    assert not caught.value.permanent
    assert not isinstance(caught.value, BadNotification)


def test_recipient_refused_by_server(notifier, server):
    server.refuse.add("nav.tada@example.lv")
    with pytest.raises(RecipientsRefused) as caught:
        notifier.notify({"to": "nav.tada@example.lv", "subject": "S", "text": "T"}, {})
    assert isinstance(caught.value, DeliveryFailed)
    assert "nav.tada@example.lv (550 5.1.1 Mailbox unavailable)" in str(caught.value)
    assert f"{notifier.settings.host}:{notifier.settings.port}" in str(caught.value)
    assert caught.value.refused == {"nav.tada@example.lv": (550, "5.1.1 Mailbox unavailable")}
    assert caught.value.delivered is False and caught.value.permanent
    assert server.envelopes == []


def test_some_recipients_refused_says_the_rest_got_it(notifier, server):
    server.refuse.add("nav.tada@example.lv")
    with pytest.raises(RecipientsRefused) as caught:
        notifier.notify({"to": "janis@example.lv", "cc": "nav.tada@example.lv", "subject": "S", "text": "T"}, {})
    assert caught.value.delivered is True
    assert "delivered to the other recipients" in str(caught.value)
    envelope, _ = server.only()
    assert envelope.rcpt_tos == ["janis@example.lv"]


def test_send_takes_envelope_from_built_message(settings, server):
    message = build_message({"to": "a@example.lv", "bcc": "b@example.lv", "subject": "S", "text": "T"}, {}, settings)
    send(message, settings)
    envelope, received = server.only()
    assert envelope.rcpt_tos == ["a@example.lv", "b@example.lv"]
    assert received["Bcc"] is None


# --- TLS and login ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def _server_context(certificate) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"kac", b"slepens")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def starttls_server(certificate):
    handler = Recorder()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=_server_context(certificate),
        require_starttls=True,
        authenticator=_authenticator,
        auth_required=True,
    )
    controller.start()
    yield handler, port
    controller.stop()


def test_starttls_and_login(starttls_server, certificate, monkeypatch):
    handler, port = starttls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # trust the test certificate
    settings = SmtpSettings(host="127.0.0.1", port=port, security="starttls", username="kac", password="slepens")
    EmailNotifier(settings).notify({"to": "a@example.lv", "subject": "Šifrēts", "text": "Ļoti slepeni."}, {})
    _, received = handler.only()
    assert str(received["Subject"]) == "Šifrēts"

    wrong = SmtpSettings(host="127.0.0.1", port=port, security="starttls", username="kac", password="nepareizi")
    with pytest.raises(DeliveryFailed, match=f"127.0.0.1:{port} refused the login of 'kac': 535"):
        EmailNotifier(wrong).notify({"to": "a@example.lv", "subject": "S", "text": "T"}, {})


def test_starttls_refuses_an_untrusted_certificate(starttls_server, tmp_path, monkeypatch):
    _, port = starttls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "none.pem"))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    settings = SmtpSettings(host="127.0.0.1", port=port, security="starttls")
    with pytest.raises(DeliveryFailed, match=rf"via 127\.0\.0\.1:{port}: SSLCertVerificationError"):
        EmailNotifier(settings).notify({"to": "a@example.lv", "subject": "S", "text": "T"}, {})


def test_implicit_tls(certificate, monkeypatch):
    handler = Recorder()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=_server_context(certificate))
    controller.start()
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
        settings = SmtpSettings(host="127.0.0.1", port=port, security="ssl")
        EmailNotifier(settings).notify({"to": "a@example.lv", "subject": "Drošs savienojums", "text": "T"}, {})
    finally:
        controller.stop()
    assert str(handler.only()[1]["Subject"]) == "Drošs savienojums"


# --- settings from the environment ------------------------------------------------------------


def test_settings_defaults():
    settings = SmtpSettings.from_env({})
    assert settings == SmtpSettings()
    assert (settings.host, settings.port, settings.security, settings.timeout) == ("localhost", 25, "none", 10.0)
    assert (settings.username, settings.password, settings.sender_name) == (None, None, "Plūsma")


def test_settings_from_env():
    settings = SmtpSettings.from_env(
        {
            "PLUSMA_SMTP_HOST": "smtp.iestade.lv",
            "PLUSMA_SMTP_PORT": "587",
            "PLUSMA_SMTP_SECURITY": "STARTTLS",
            "PLUSMA_SMTP_USER": "plusma",
            "PLUSMA_SMTP_PASSWORD": "s3cret",
            "PLUSMA_SMTP_TIMEOUT": "2.5",
            "PLUSMA_MAIL_FROM": "pieteikumi@iestade.lv",
            "PLUSMA_MAIL_FROM_NAME": "Valsts kanceleja",
        }
    )
    assert settings == SmtpSettings(
        host="smtp.iestade.lv",
        port=587,
        security="starttls",
        username="plusma",
        password="s3cret",
        timeout=2.5,
        sender="pieteikumi@iestade.lv",
        sender_name="Valsts kanceleja",
    )
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"PLUSMA_SMTP_PORT": "twenty-five"}, "PLUSMA_SMTP_PORT"),
        ({"PLUSMA_SMTP_PORT": "70000"}, "PLUSMA_SMTP_PORT"),
        ({"PLUSMA_SMTP_SECURITY": "tls"}, "PLUSMA_SMTP_SECURITY"),
        ({"PLUSMA_SMTP_TIMEOUT": "soon"}, "PLUSMA_SMTP_TIMEOUT"),
        ({"PLUSMA_SMTP_TIMEOUT": "0"}, "PLUSMA_SMTP_TIMEOUT"),
        ({"PLUSMA_SMTP_PASSWORD": "x"}, "PLUSMA_SMTP_PASSWORD"),
        ({"PLUSMA_MAIL_FROM": "Iestāde <a@b.lv>"}, "PLUSMA_MAIL_FROM"),
        ({"PLUSMA_MAIL_FROM": "nav adrese"}, "PLUSMA_MAIL_FROM"),
        ({"PLUSMA_MAIL_FROM_NAME": "KAC\nBcc: x@y.lv"}, "PLUSMA_MAIL_FROM_NAME"),
        ({"PLUSMA_MAIL_TEMPLATES": "/nonexistent/plusma-mail"}, "PLUSMA_MAIL_TEMPLATES"),
    ],
)
def test_bad_env_values_name_the_variable(environ, variable):
    with pytest.raises(ValueError, match=variable):
        EmailNotifier.from_env(environ)


def test_settings_validated_when_built_directly():
    with pytest.raises(ValueError, match="security"):
        SmtpSettings(security="tls")
    with pytest.raises(ValueError, match="port"):
        SmtpSettings(port=0)
    with pytest.raises(ValueError, match="sender must be one plain e-mail address"):
        SmtpSettings(sender="Plūsma <a@b.lv>")
    with pytest.raises(ValueError, match="sender_name"):
        SmtpSettings(sender_name="a\r\nBcc: x@y.lv")


def test_missing_template_directory_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        EmailNotifier(template_dirs=[tmp_path / "nav"])


# --- institution templates --------------------------------------------------------------------


def test_institution_directory_wins_over_shipped_templates(tmp_path, settings, server):
    (tmp_path / "request_registered.lv.txt").write_text(
        "Subject: Ministrija: pieteikums {{ businessKey }} pieņemts\n\nMūsu pašu teksts, Nr. {{ businessKey }}.\n",
        encoding="utf-8",
    )
    (tmp_path / "_footer.en.txt").write_text("Ministry of Examples\n", encoding="utf-8")
    notifier = EmailNotifier.from_env(
        {
            "PLUSMA_SMTP_HOST": "127.0.0.1",
            "PLUSMA_SMTP_PORT": str(settings.port),
            "PLUSMA_MAIL_TEMPLATES": str(tmp_path),
        }
    )
    assert template_dirs_from_env({"PLUSMA_MAIL_TEMPLATES": str(tmp_path)}) == [tmp_path]

    notifier.notify({"to": "a@example.lv", "template": "request_registered"}, VARIABLES)
    _, received = server.only()
    assert str(received["Subject"]) == "Ministrija: pieteikums PIET-2024-0042 pieņemts"
    assert received.get_content_type() == "text/plain"  # the shipped HTML does not come along
    assert body(received) == "Mūsu pašu teksts, Nr. PIET-2024-0042.\n"

    # English is not overridden: the shipped template, with the institution's footer.
    english = notifier.build({"to": "a@example.lv", "template": "request_registered", "language": "en"}, VARIABLES)
    assert str(english["Subject"]) == "Request No. PIET-2024-0042 registered"
    assert body(english).endswith("Ministry of Examples\n")
    assert "has been registered" in body(english)


def test_institution_template_only_in_english_is_reported(tmp_path):
    (tmp_path / "atgadinajums.en.txt").write_text("Subject: Reminder\n\nHello.\n", encoding="utf-8")
    notifier = EmailNotifier(template_dirs=[tmp_path])
    with pytest.raises(BadNotification, match="exists only in en, not in 'lv'") as caught:
        notifier.build({"to": "a@example.lv", "template": "atgadinajums"}, {})
    assert caught.value.parameter == "language"
    assert notifier.build({"to": "a@example.lv", "template": "atgadinajums", "language": "en"}, {})["Subject"]


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ("Temats bez virsraksta\n\nTeksts\n", r"line 1: the first line must be 'Subject: \.\.\.'"),
        ("Subject: S\n\nTeksts {% if %}\n", r"line 3: "),
        ("Subject: S\n\n{% include '_nav.txt' %}\n", "includes '_nav.txt', which does not exist"),
        ("Subject: S\n\n{{ 1 / 0 }}\n", "line 3: ZeroDivisionError"),
    ],
)
def test_broken_institution_template_names_the_file(tmp_path, source, match):
    (tmp_path / "salauzts.lv.txt").write_text(source, encoding="utf-8")
    with pytest.raises(BadNotification, match=match) as caught:
        MailTemplates([tmp_path]).render("salauzts", {})
    assert str(tmp_path / "salauzts.lv.txt") in str(caught.value)


# --- the template sandbox ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "''.__class__.__mro__",
        "''.__class__.__mro__[1].__subclasses__()",
        "cycler.__init__.__globals__",
        "lipsum.__globals__",
        "saraksts.append(4)",
        "vardnica.update({'x': 1})",
        "'x' * 1000000",
        "2 ** 1000000",
    ],
)
def test_sandbox_refuses(tmp_path, expression):
    (tmp_path / "launs.lv.txt").write_text("Subject: S\n\n{{ " + expression + " }}\n", encoding="utf-8")
    variables = {"saraksts": [1, 2, 3], "vardnica": {"a": 1}}
    with pytest.raises(BadNotification, match="refused by the template sandbox"):
        MailTemplates([tmp_path]).render("launs", variables)
    assert variables == {"saraksts": [1, 2, 3], "vardnica": {"a": 1}}


def test_sandbox_still_allows_ordinary_template_code(tmp_path):
    (tmp_path / "parasts.lv.txt").write_text(
        "Subject: {{ vards|upper }} ({{ saraksts|length }})\n\n"
        "{% for x in saraksts %}{{ loop.index }}. {{ x }}\n{% endfor %}{{ '%.2f'|format(summa) }} {{ 'ab' * 2 }}\n",
        encoding="utf-8",
    )
    rendered = MailTemplates([tmp_path]).render("parasts", {"vards": "ēka", "saraksts": ["a", "b"], "summa": 3.14159})
    assert rendered.subject == "ĒKA (2)"
    assert rendered.text == "1. a\n2. b\n3.14 abab\n"
