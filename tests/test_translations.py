"""Translation catalogues of process names, element names and form texts."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest

from engine.config import PROJECT_ROOT, Settings
from engine.forms.schema import parse_form
from engine.translations import SOURCE_LANGUAGE, CatalogueError, Catalogues, normalize_language

PROCESSES_DIR = PROJECT_ROOT / "processes"
FORMS_DIR = PROJECT_ROOT / "forms"


def write(path: Path, content) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


@pytest.fixture
def folders(tmp_path) -> tuple[Path, Path]:
    processes, forms = tmp_path / "processes", tmp_path / "forms"
    write(
        processes / "i18n" / "en" / "pieteikumi.json",
        {"processes": {"pieteikumi": {"name": "Request intake", "elements": {"Task_a": "Register", "Task_b": ""}}}},
    )
    write(forms / "i18n" / "en" / "registracija.json", {"title": "Register", "components": {"a": {"label": "A"}}})
    return processes, forms


def test_process_and_element_names(folders):
    catalogues = Catalogues(*folders)
    assert catalogues.process_name("en", "pieteikumi", "Pieteikumu pārvaldība") == "Request intake"
    assert catalogues.element_name("en", "pieteikumi", "Task_a", "Reģistrēt") == "Register"
    # missing or empty translations fall back to the Latvian default
    assert catalogues.element_name("en", "pieteikumi", "Task_b", "Otrais") == "Otrais"
    assert catalogues.element_name("en", "pieteikumi", "Task_c", "Trešais") == "Trešais"
    assert catalogues.process_name("en", "cits", "Cits process") == "Cits process"
    assert catalogues.element_name("en", "cits", "Task_a", "Cits") == "Cits"


@pytest.mark.parametrize("language", ["lv", "LV", "lv-LV", "de", "", None, "../en", "e"])
def test_latvian_and_unknown_languages_give_the_defaults(folders, language):
    catalogues = Catalogues(*folders)
    assert catalogues.process_name(language, "pieteikumi", "Pieteikumu pārvaldība") == "Pieteikumu pārvaldība"
    assert catalogues.element_name(language, "pieteikumi", "Task_a", "Reģistrēt") == "Reģistrēt"
    assert catalogues.form_translation(language, "registracija") is None


@pytest.mark.parametrize("language", ["en", "EN", "en-GB", "en_US"])
def test_regional_variants_use_the_languages_catalogue(folders, language):
    catalogues = Catalogues(*folders)
    assert catalogues.process_name(language, "pieteikumi", "x") == "Request intake"
    assert catalogues.form_translation(language, "registracija")["title"] == "Register"


def test_normalize_language():
    assert normalize_language("en-GB") == "en"
    assert normalize_language(" LV ") == "lv"
    assert normalize_language("x1") == SOURCE_LANGUAGE


def test_form_translation(folders):
    catalogues = Catalogues(*folders)
    assert catalogues.form_translation("en", "registracija") == {
        "title": "Register",
        "components": {"a": {"label": "A"}},
    }
    assert catalogues.form_translation("en", "nav-tadas") is None


@pytest.mark.parametrize("form_id", ["../../processes/i18n/en/pieteikumi", ".hidden", "a/b", "a\\b", ""])
def test_a_form_id_that_cannot_name_a_file_has_no_translation(folders, form_id):
    processes, forms = folders
    write(forms / "i18n" / "en" / ".hidden.json", {"title": "x"})
    assert Catalogues(processes, forms).form_translation("en", form_id) is None


def test_catalogues_are_read_once(folders):
    processes, forms = folders
    catalogues = Catalogues(processes, forms)
    assert catalogues.process_name("en", "pieteikumi", "x") == "Request intake"
    assert catalogues.form_translation("en", "registracija")["title"] == "Register"
    write(processes / "i18n" / "en" / "pieteikumi.json", "broken")
    write(forms / "i18n" / "en" / "registracija.json", "broken")
    assert catalogues.process_name("en", "pieteikumi", "x") == "Request intake"
    assert catalogues.form_translation("en", "registracija")["title"] == "Register"


def test_catalogues_are_shared_between_threads(folders):
    catalogues = Catalogues(*folders)
    results = []

    def read():
        results.append(
            (catalogues.process_name("en", "pieteikumi", "x"), catalogues.form_translation("en", "registracija"))
        )

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and all(name == "Request intake" and form for name, form in results)


def test_languages(folders):
    processes, forms = folders
    (forms / "i18n" / "de").mkdir()
    (forms / "i18n" / "not-a-language").mkdir()
    assert Catalogues(processes, forms).languages() == ["lv", "de", "en"]
    assert Catalogues(processes / "nav", forms / "nav").languages() == ["lv"]


@pytest.mark.parametrize(
    "content, expected",
    [
        ("{not json", "invalid JSON: Expecting property name enclosed in double quotes (line 1, column 2)"),
        ([], 'expected {"processes"'),
        ({"processes": []}, 'expected {"processes"'),
        ({"processes": {"p": "Name"}}, "process 'p': expected an object"),
        ({"processes": {"p": {"name": 1}}}, "process 'p': the name must be a string"),
        ({"processes": {"p": {"elements": []}}}, "process 'p': elements must map"),
        ({"processes": {"p": {"elements": {"Task_a": None}}}}, "process 'p', element 'Task_a': the name must be"),
    ],
)
def test_a_malformed_process_catalogue_names_the_file(tmp_path, content, expected):
    path = write(tmp_path / "processes" / "i18n" / "en" / "slikts.json", content)
    with pytest.raises(CatalogueError) as caught:
        Catalogues(tmp_path / "processes", tmp_path / "forms").process_name("en", "p", "P")
    assert str(path) in str(caught.value) and expected in str(caught.value)
    assert caught.value.path == path


def test_a_process_translated_in_two_files_is_an_error(tmp_path):
    write(tmp_path / "i18n" / "en" / "a.json", {"processes": {"p": {"name": "A"}}})
    second = write(tmp_path / "i18n" / "en" / "b.json", {"processes": {"p": {"name": "B"}}})
    with pytest.raises(CatalogueError, match="process 'p' is also translated in .*a.json") as caught:
        Catalogues(tmp_path, tmp_path).process_name("en", "p", "P")
    assert caught.value.path == second


def test_a_catalogue_that_is_not_utf8_names_the_file(tmp_path):
    path = tmp_path / "forms" / "i18n" / "en" / "f.json"
    path.parent.mkdir(parents=True)
    path.write_bytes('{"title": "Rīga"}'.encode("utf-16"))
    with pytest.raises(CatalogueError, match=re.escape(str(path)) + ": not UTF-8"):
        Catalogues(tmp_path, tmp_path / "forms").form_translation("en", "f")


@pytest.mark.parametrize(
    "content, expected",
    [
        ("[1, 2", "invalid JSON"),
        ([], 'expected {"title"'),
        ({"title": ["x"]}, "the title must be a string"),
        ({"components": []}, "components must map"),
        ({"components": {"a": "A"}}, "component 'a': expected an object"),
        ({"components": {"a": {"label": 1}}}, "component 'a': label must be a string"),
        ({"components": {"a": {"values": {"x": ["X"]}}}}, "component 'a': values must map option values to labels"),
    ],
)
def test_a_malformed_form_catalogue_names_the_file(tmp_path, content, expected):
    path = write(tmp_path / "forms" / "i18n" / "en" / "forma.json", content)
    with pytest.raises(CatalogueError) as caught:
        Catalogues(tmp_path / "processes", tmp_path / "forms").form_translation("en", "forma")
    assert str(path) in str(caught.value) and expected in str(caught.value)


# --- the shipped library -------------------------------------------------------------------------------


def shipped_processes() -> list[tuple[str, str, dict[str, str]]]:
    """(process id, Latvian name, {element id: Latvian name}) of every shipped BPMN process."""
    from lxml import etree

    found = []
    for path in sorted(PROCESSES_DIR.glob("*.bpmn")):
        root = etree.parse(str(path)).getroot()
        for process in root.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}process"):
            names = {
                element.get("id"): element.get("name")
                for element in process.iterdescendants()
                if isinstance(element.tag, str) and element.get("id") and element.get("name")
            }
            found.append((process.get("id"), process.get("name") or process.get("id"), names))
    return found


def test_every_shipped_process_and_named_element_has_an_english_name():
    settings = Settings()
    catalogues = Catalogues(settings.processes_dir, settings.forms_dir)
    processes = shipped_processes()
    assert len(processes) >= 10
    for process_id, name, elements in processes:
        assert catalogues.process_name("en", process_id, name) != name, process_id
        assert catalogues.process_name("lv", process_id, name) == name
        untranslated = [
            element_id
            for element_id, element_name in elements.items()
            if catalogues.element_name("en", process_id, element_id, element_name) == element_name
        ]
        assert not untranslated, f"{process_id}: no English name for {untranslated}"


def test_every_shipped_form_has_a_valid_english_catalogue():
    catalogues = Catalogues(PROCESSES_DIR, FORMS_DIR)
    for path in sorted(FORMS_DIR.glob("*.form")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        translation = catalogues.form_translation("en", schema["id"])
        assert translation is not None, schema["id"]
        assert parse_form(schema, translation).title == translation["title"]
        assert catalogues.form_translation("lv", schema["id"]) is None
