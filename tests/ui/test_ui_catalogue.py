"""Every text of the UI is in the Latvian catalogue, with the same placeholders, and nothing stale is left."""

from __future__ import annotations

import re

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from engine.config import PROJECT_ROOT
from web.ui.i18n import CATALOGUES, compile_catalogues

METHOD_MAP = [("web/**.py", "python"), ("web/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def ui_texts() -> set:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        PROJECT_ROOT, METHOD_MAP, keywords=KEYWORDS, options_map={"web/templates/**.html": {}}
    ):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def latvian():  # noqa: ANN201
    with (CATALOGUES / "lv" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po)


def test_every_ui_text_has_a_latvian_translation_with_the_same_placeholders():
    catalogue = latvian()
    texts = ui_texts()
    assert len(texts) > 100
    missing, wrong = [], []
    for text in texts:
        message = catalogue.get(text if isinstance(text, str) else text[0])
        if message is None or not all(message.string if isinstance(message.string, tuple) else [message.string]):
            missing.append(text)
            continue
        sources = [text] if isinstance(text, str) else list(text)
        translations = [message.string] if isinstance(message.string, str) else list(message.string)
        wanted = set(PLACEHOLDER.findall(" ".join(sources)))
        if any(set(PLACEHOLDER.findall(t)) != wanted for t in translations):
            wrong.append(text)
    assert not missing, f"not translated into Latvian: {missing}"
    assert not wrong, f"placeholders differ from the English text: {wrong}"
    stale = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue if m.id} - {
        t if isinstance(t, str) else t[0] for t in texts
    }
    assert not stale, f"in the catalogue but no longer in the UI: {sorted(stale)}"
    assert not [m.id for m in catalogue if m.id and m.fuzzy], "fuzzy entries are not used: review them"


def test_catalogues_compile():
    compiled = compile_catalogues()
    assert (compiled / "lv" / "LC_MESSAGES" / "messages.mo").stat().st_size > 1000
