"""The one way deployed XML is read: a hardened lxml parser that refuses DTDs and entities.

Deployed BPMN and DMN files come from process owners and over the REST API, so they are untrusted input.
lxml's default parser would load external DTDs, resolve external entities (XXE: reading local files or
URLs) and expand internal ones (billion laughs). Every byte of XML that reaches SpiffWorkflow goes
through :func:`parse_xml`; ``engine.parsing.camunda.PlusmaParser`` routes SpiffWorkflow's own
string/file adders here too.
"""

from __future__ import annotations

import threading

from lxml import etree

from engine.errors import InvalidModel, ModelProblem

MAX_FILE_BYTES = 5 * 1024 * 1024

_MARKER_ENCODINGS = ("utf-8", "utf-16-le", "utf-16-be")

# lxml parser objects must not be used by two threads at once, and the web server runs threads.
_local = threading.local()


def _parser_options() -> dict:
    return {
        "resolve_entities": False,  # never substitute entities, internal or external
        "no_network": True,  # never fetch anything over the network
        "load_dtd": False,  # never read an external DTD
        "dtd_validation": False,
        "huge_tree": False,  # keep libxml2's limits on depth, text size and entity amplification
    }


def hardened_parser() -> etree.XMLParser:
    """This thread's hardened parser (comments are kept, so line numbers match the file)."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(remove_comments=False, **_parser_options())
        _local.parser = parser
    return parser


class _DoctypeFound(Exception):
    pass


class _RootReached(Exception):
    pass


class _PrologGuard:
    """Parser target that stops at the first DOCTYPE or at the root element.

    libxml2 reports the DOCTYPE before it reads the internal subset, so a document that declares
    entities is refused before any declaration in it is processed.
    """

    def doctype(self, name, pubid, system):
        raise _DoctypeFound(name)

    def start(self, tag, attrib, nsmap=None):
        raise _RootReached

    def end(self, tag):
        pass

    def data(self, data):
        pass

    def comment(self, text):
        pass

    def pi(self, target, data=None):
        pass

    def close(self) -> None:
        return None


def _doctype_line(content: bytes) -> int | None:
    """Line of the DOCTYPE, for the message (libxml2's target callback does not report it)."""
    for encoding in _MARKER_ENCODINGS:
        pos = content.find("<!DOCTYPE".encode(encoding))
        if pos >= 0:
            return content.count("\n".encode(encoding), 0, pos) + 1
    return None


def _refuse(filename: str, message: str, line: int | None = None) -> InvalidModel:
    return InvalidModel([ModelProblem(filename, message, line=line)])


def _doctype_problem(filename: str, content: bytes) -> InvalidModel:
    return _refuse(
        filename,
        "a DOCTYPE (DTD) is not allowed: Plūsma does not read DTDs or entities in deployed XML",
        _doctype_line(content),
    )


def parse_xml(content: bytes, filename: str) -> etree._Element:
    """Parse one deployed XML file; return its root element or raise ``InvalidModel``.

    Refused: more than ``MAX_FILE_BYTES``, any DOCTYPE (and so any DTD or entity declaration),
    malformed XML (the problem carries the line libxml2 reports).
    """
    if isinstance(content, str):
        raise TypeError("parse_xml takes the file's bytes, not a decoded string")
    if len(content) > MAX_FILE_BYTES:
        raise _refuse(filename, f"file is too large ({len(content)} bytes; at most {MAX_FILE_BYTES} bytes)")
    if not content.strip():
        raise _refuse(filename, "file is empty")

    # Pass 1 reads only the prolog, so a DTD is refused before libxml2 processes anything in it.
    guard = etree.XMLParser(target=_PrologGuard(), **_parser_options())
    try:
        etree.fromstring(content, guard)
    except _DoctypeFound:
        raise _doctype_problem(filename, content) from None
    except _RootReached:
        pass
    except etree.XMLSyntaxError as err:
        raise _syntax_problem(filename, err) from None

    # Pass 2 builds the tree.
    try:
        root = etree.fromstring(content, hardened_parser())
    except etree.XMLSyntaxError as err:
        raise _syntax_problem(filename, err) from None
    if root is None:
        raise _refuse(filename, "file has no root element")
    # Second line of defence: the guard above should have stopped any of these already.
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _doctype_problem(filename, content)
    return root


def _syntax_problem(filename: str, err: etree.XMLSyntaxError) -> InvalidModel:
    line = err.lineno if isinstance(err.lineno, int) and err.lineno > 0 else None
    message = err.msg or str(err)
    return _refuse(filename, f"malformed XML: {message}", line)


def has_doctype(tree: etree._Element | etree._ElementTree) -> bool:
    """True if an already-parsed tree came with a DOCTYPE (used to refuse trees not from ``parse_xml``)."""
    doc = tree if isinstance(tree, etree._ElementTree) else tree.getroottree()
    info = doc.docinfo
    return bool(info.doctype) or info.internalDTD is not None or info.externalDTD is not None
