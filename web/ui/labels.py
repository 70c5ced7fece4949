"""Names staff see: processes, their elements and forms, in the UI's language.

Latvian names come from the deployed BPMN; other languages from the process library's catalogues
(``processes/i18n/<lang>``, ``forms/i18n/<lang>``), falling back to the Latvian name.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import current_app, g
from lxml import etree

from engine.parsing.xml import parse_xml
from engine.translations import Catalogues
from web.ui.i18n import DEFAULT_LANGUAGE, language

#: Element names and form ids read from deployed BPMN files, by definition id: definitions never change
#: once deployed.
_facts: dict[str, tuple[dict[str, str], list[str]]] = {}
_facts_lock = threading.Lock()


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


def element_name(process_key: str, element_id: str, default: str | None, definition_id: str | None = None) -> str:
    """An element's name in the UI's language; ``definition_id`` finds the deployed name when the
    caller has none (history events of some steps carry only the element id)."""
    if not default and definition_id:
        default = bpmn_names(definition_id).get(element_id)
    return catalogues().element_name(language(), process_key, element_id, default or element_id)


def bpmn_names(definition_id: str) -> dict[str, str]:
    """Element id to name, as written in the deployed BPMN file of a definition."""
    return _definition_facts(definition_id)[0]


def form_ids(definition_id: str) -> list[str]:
    """The forms a definition's tasks and start event name (``camunda:formRef``), in file order."""
    return _definition_facts(definition_id)[1]


_CAMUNDA_FORM_REF = "{http://camunda.org/schema/1.0/bpmn}formRef"


def _definition_facts(definition_id: str) -> tuple[dict[str, str], list[str]]:
    """Element names and form ids of a deployed BPMN file, read from one parse and kept."""
    with _facts_lock:
        facts = _facts.get(definition_id)
    if facts is None:
        names: dict[str, str] = {}
        forms: list[str] = []
        for element in _definition_xml(definition_id).iter():
            if not isinstance(element.tag, str):
                continue
            if element.get("id") and element.get("name"):
                names[element.get("id")] = element.get("name")
            form_id = element.get(_CAMUNDA_FORM_REF)
            if form_id and form_id not in forms:
                forms.append(form_id)
        facts = (names, forms)
        with _facts_lock:
            _facts[definition_id] = facts
    return facts


def _definition_xml(definition_id: str) -> etree._Element:
    engine = current_app.extensions["plusma"]
    definition = engine.definitions.get(definition_id)
    return parse_xml(engine.definitions.xml(definition), definition["resource_name"])


def translated_diagram(definition_id: str, process_key: str) -> bytes:
    """The definition's BPMN file with element names in the UI's language, for the diagram viewer."""
    root = _definition_xml(definition_id)
    if language() != DEFAULT_LANGUAGE:
        for element in root.iter():
            if isinstance(element.tag, str) and element.get("id") and element.get("name"):
                element.set("name", element_name(process_key, element.get("id"), element.get("name")))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def form_translation(form_id: str) -> dict[str, Any] | None:
    return catalogues().form_translation(language(), form_id)
