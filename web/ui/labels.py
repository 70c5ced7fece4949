"""Names staff see: processes, their elements and forms, in the UI's language.

Latvian names come from the deployed BPMN; other languages from the process library's catalogues
(``processes/i18n/<lang>``, ``forms/i18n/<lang>``), falling back to the Latvian name.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g

from engine.translations import Catalogues
from web.ui.i18n import language


def catalogues() -> Catalogues:
    return current_app.extensions["plusma.catalogues"]


def _definition_names() -> dict[str, str]:
    if "definition_names" not in g:
        definitions = current_app.extensions["plusma"].definitions.list(latest_only=True)
        g.definition_names = {d["key"]: d["name"] or d["key"] for d in definitions}
    return g.definition_names


def process_name(key: str) -> str:
    return catalogues().process_name(language(), key, _definition_names().get(key, key))


def process_choices() -> list[tuple[str, str]]:
    """(key, name) of every deployed process, by name: the inbox's process filter."""
    names = [(key, process_name(key)) for key in _definition_names()]
    return sorted(names, key=lambda pair: pair[1].casefold())


def element_name(process_key: str, element_id: str, default: str | None) -> str:
    return catalogues().element_name(language(), process_key, element_id, default or element_id)


def form_translation(form_id: str) -> dict[str, Any] | None:
    return catalogues().form_translation(language(), form_id)
