"""Parsing and checking e-mail addresses given as notification parameters.

Addresses come from process variables (a requester typed them into a form), so they are parsed
strictly with the standard library's RFC 5322 parser and refused on any defect, rather than
passed on to the mail server to bounce later.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from email import policy
from email.errors import NonASCIILocalPartDefect
from email.headerregistry import Address

from .errors import BadNotification

#: CR, LF and the other line ends str.splitlines() knows (the mail library splits headers with it in places).
_LINE_BREAKS = "\r\n\x85\u2028\u2029"
#: Refused in header values besides the C0 controls (except tab).
_REFUSED_EXTRA = "\x7f\x85\u2028\u2029"
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def check_header_value(value: str, parameter: str) -> str:
    """Refuse line breaks and other control characters: in a header they would start a new header."""
    for ch in value:
        if (ord(ch) < 32 and ch != "\t") or ch in _REFUSED_EXTRA:
            kind = "a line break" if ch in _LINE_BREAKS else f"a control character (U+{ord(ch):04X})"
            raise BadNotification(f"contains {kind}; refused (header injection)", parameter)
    return value


def parse_addresses(value: object, parameter: str) -> list[Address]:
    """Addresses from a comma-separated string or a list of strings; ``[]`` when empty.

    Display names are allowed (``"Bērziņš, Jānis" <janis@example.lv>``); a domain with non-ASCII
    letters is converted to its ASCII (IDNA) form, which every mail server understands.
    """
    if value is None:
        return []
    if isinstance(value, str):
        items: Iterable[object] = [value]
    elif isinstance(value, list | tuple):
        items = value
    else:
        raise BadNotification(f"expected addresses as a string or a list, not {type(value).__name__}", parameter)
    addresses: list[Address] = []
    for item in items:
        if not isinstance(item, str):
            raise BadNotification(f"expected an address string, not {type(item).__name__}", parameter)
        check_header_value(item, parameter)
        if item.strip(" \t,"):
            addresses.extend(_parse_list(item.strip(" \t,"), parameter))
    return addresses


def _parse_list(text: str, parameter: str) -> list[Address]:
    try:
        header = policy.default.header_factory("To", text)
        parsed = list(header.addresses)
        defects = [d for d in header.defects if not isinstance(d, NonASCIILocalPartDefect)]
    except Exception:  # noqa: BLE001 - the parser can fail with IndexError etc. on some malformed input
        parsed, defects = [], ["unparsable"]
    if defects or not parsed:
        raise BadNotification(f"not a valid e-mail address (list): {text!r}", parameter)
    result = []
    for address in parsed:
        if not address.username or not address.domain:
            raise BadNotification(f"not a valid e-mail address: {str(address)!r}", parameter)
        result.append(Address(address.display_name, address.username, _ascii_domain(address.domain, parameter)))
    return result


def _ascii_domain(domain: str, parameter: str) -> str:
    try:
        ascii_domain = domain.encode("idna").decode("ascii") if not domain.isascii() else domain
    except UnicodeError:
        raise BadNotification(f"not a valid mail domain: {domain!r}", parameter) from None
    labels = ascii_domain.split(".")
    if not all(_LABEL.match(label) for label in labels):
        raise BadNotification(f"not a valid mail domain: {domain!r}", parameter)
    return ascii_domain.lower()
