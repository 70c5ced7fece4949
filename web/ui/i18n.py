"""Languages of the web UI: Latvian by default, English on request.

UI texts go through Flask-Babel; their catalogues are ``web/translations/<lang>/LC_MESSAGES/messages.po``
(the source texts are English, so English needs no catalogue). The ``.po`` files are compiled when
the app starts, into a folder of the process's own, so no generated binary lives in the repository.
Process, element and form texts come from the process library's catalogues (``engine.translations``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, session
from flask_babel import Babel, get_locale

LANGUAGES = {"lv": "Latviešu", "en": "English"}
DEFAULT_LANGUAGE = "lv"
CATALOGUES = Path(__file__).resolve().parent.parent / "translations"


def compile_catalogues(source: Path = CATALOGUES) -> Path:
    """Compile every ``.po`` under ``source`` into a new folder; return that folder.

    A catalogue that does not parse stops the start, naming the file and line.
    """
    target = Path(tempfile.mkdtemp(prefix="plusma-translations-"))
    for po_path in sorted(source.glob("*/LC_MESSAGES/*.po")):
        with po_path.open("rb") as po_file:
            catalogue = read_po(po_file, locale=po_path.parent.parent.name, abort_invalid=True)
        mo_path = target / po_path.relative_to(source).with_suffix(".mo")
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalogue)
    return target


def select_language() -> str:
    language = session.get("locale")
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def language() -> str:
    """The current request's UI language code."""
    return str(get_locale() or DEFAULT_LANGUAGE)


def init_app(app: Flask, timezone: str) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compile_catalogues())
    Babel(app, default_locale=DEFAULT_LANGUAGE, default_timezone=timezone, locale_selector=select_language)
