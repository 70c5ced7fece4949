"""The process library's translations: process and element names, and form texts, per language.

Latvian is the source language: names and form texts are written in Latvian in the BPMN and form files,
so for ``lv`` (and any language without catalogues) the defaults given by the caller are answered.
Other languages live in JSON catalogues (shapes in processes/README.md, "English"):

- ``<processes_dir>/i18n/<language>/<file>.json``: ``{"processes": {"<process id>": {"name": ...,
  "elements": {"<element id>": "name"}}}}``; a language's files are read together, once.
- ``<forms_dir>/i18n/<language>/<form id>.json``: ``{"title": ..., "components": {"<key or id>":
  {"label", "description", "text", "values": {"<value>": "label"}}}}``; each read when first asked for.

Catalogues are read lazily and kept (the files ship with the application); a malformed one raises
``CatalogueError`` naming the file and what is wrong, rather than showing a half-translated page.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.errors import PlusmaError

SOURCE_LANGUAGE = "lv"
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_FORM_ENTRY_TEXTS = ("label", "description", "text", "dateLabel", "timeLabel")


class CatalogueError(PlusmaError):
    """A translation catalogue that is not valid JSON or not in the expected shape; names the file."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        super().__init__(f"translation catalogue {path}: {problem}")


def normalize_language(language: str | None) -> str:
    """``en-GB``, ``EN`` and ``en_US`` are ``en``; nothing usable is the source language."""
    if not language:
        return SOURCE_LANGUAGE
    primary = re.split(r"[-_]", language.strip(), maxsplit=1)[0].lower()
    return primary if _LANGUAGE.match(primary) else SOURCE_LANGUAGE


class Catalogues:
    """The translation catalogues under ``processes_dir/i18n`` and ``forms_dir/i18n``; safe to share between threads."""

    def __init__(self, processes_dir: Path, forms_dir: Path) -> None:
        self.processes_dir = Path(processes_dir)
        self.forms_dir = Path(forms_dir)
        self._lock = threading.Lock()
        self._processes: dict[str, dict[str, dict[str, Any]]] = {}
        self._forms: dict[tuple[str, str], dict[str, Any] | None] = {}

    def languages(self) -> list[str]:
        """The source language and every language with a catalogue folder, sorted after it."""
        found: set[str] = set()
        for base in (self.processes_dir, self.forms_dir):
            folder = base / "i18n"
            if folder.is_dir():
                found.update(entry.name for entry in folder.iterdir() if entry.is_dir() and _LANGUAGE.match(entry.name))
        found.discard(SOURCE_LANGUAGE)
        return [SOURCE_LANGUAGE, *sorted(found)]

    def process_name(self, language: str | None, process_id: str, default: str) -> str:
        """The process's name in ``language``, else ``default`` (its name in the BPMN file)."""
        entry = self._process_entry(language, process_id)
        return (entry.get("name") or default) if entry else default

    def element_name(self, language: str | None, process_id: str, element_id: str, default: str) -> str:
        """A BPMN element's name in ``language``, else ``default``."""
        entry = self._process_entry(language, process_id)
        if not entry:
            return default
        return entry.get("elements", {}).get(element_id) or default

    def form_translation(self, language: str | None, form_id: str) -> dict[str, Any] | None:
        """The form's catalogue in ``language`` (for ``engine.forms.parse_form``), or None for the source language,
        a language without one, or a form id that cannot name a file."""
        language = normalize_language(language)
        if language == SOURCE_LANGUAGE or not _is_file_name(form_id):
            return None
        cache_key = (language, form_id)
        with self._lock:
            if cache_key not in self._forms:
                path = self.forms_dir / "i18n" / language / f"{form_id}.json"
                self._forms[cache_key] = _check_form_catalogue(path, _read_json(path)) if path.is_file() else None
            return self._forms[cache_key]

    # --- processes -----------------------------------------------------------------------------------

    def _process_entry(self, language: str | None, process_id: str) -> dict[str, Any] | None:
        language = normalize_language(language)
        if language == SOURCE_LANGUAGE:
            return None
        with self._lock:
            if language not in self._processes:
                self._processes[language] = self._load_processes(language)
            return self._processes[language].get(process_id)

    def _load_processes(self, language: str) -> dict[str, dict[str, Any]]:
        folder = self.processes_dir / "i18n" / language
        processes: dict[str, dict[str, Any]] = {}
        origin: dict[str, Path] = {}
        if not folder.is_dir():
            return processes
        for path in sorted(folder.glob("*.json")):
            for process_id, entry in _check_process_catalogue(path, _read_json(path)).items():
                if process_id in processes:
                    raise CatalogueError(path, f"process {process_id!r} is also translated in {origin[process_id]}")
                processes[process_id] = entry
                origin[process_id] = path
        return processes


def _is_file_name(name: str) -> bool:
    return bool(name) and isinstance(name, str) and not name.startswith(".") and not re.search(r"[/\\\x00]", name)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise CatalogueError(path, f"invalid JSON: {err.msg} (line {err.lineno}, column {err.colno})") from None
    except UnicodeDecodeError as err:
        raise CatalogueError(path, f"not UTF-8 text: {err.reason} at byte {err.start}") from None


def _check_process_catalogue(path: Path, content: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(content, Mapping) or not isinstance(content.get("processes"), Mapping):
        raise CatalogueError(path, 'expected {"processes": {"<process id>": {"name": ..., "elements": {...}}}}')
    for process_id, entry in content["processes"].items():
        if not isinstance(entry, Mapping):
            raise CatalogueError(path, f"process {process_id!r}: expected an object with name and elements")
        if "name" in entry and not isinstance(entry["name"], str):
            raise CatalogueError(path, f"process {process_id!r}: the name must be a string")
        elements = entry.get("elements", {})
        if not isinstance(elements, Mapping):
            raise CatalogueError(path, f"process {process_id!r}: elements must map element ids to names")
        for element_id, name in elements.items():
            if not isinstance(name, str):
                raise CatalogueError(path, f"process {process_id!r}, element {element_id!r}: the name must be a string")
    return dict(content["processes"])


def _check_form_catalogue(path: Path, content: Any) -> dict[str, Any]:
    if not isinstance(content, Mapping):
        raise CatalogueError(path, 'expected {"title": ..., "components": {"<key or id>": {...}}}')
    if "title" in content and not isinstance(content["title"], str):
        raise CatalogueError(path, "the title must be a string")
    components = content.get("components", {})
    if not isinstance(components, Mapping):
        raise CatalogueError(path, "components must map component keys or ids to their texts")
    for name, entry in components.items():
        if not isinstance(entry, Mapping):
            raise CatalogueError(path, f"component {name!r}: expected an object with label, description, values, text")
        for text in _FORM_ENTRY_TEXTS:
            if text in entry and not isinstance(entry[text], str):
                raise CatalogueError(path, f"component {name!r}: {text} must be a string")
        values = entry.get("values", {})
        if not isinstance(values, Mapping) or not all(isinstance(label, str) for label in values.values()):
            raise CatalogueError(path, f"component {name!r}: values must map option values to labels")
    return dict(content)
