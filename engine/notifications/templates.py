"""Mail templates: one per name and language, rendered with a sandboxed, strict Jinja2.

A template is ``<name>.<language>.txt`` -- the first line is ``Subject: ...``, the rest the plain
text body -- with an optional ``<name>.<language>.html`` (the HTML body) beside it. Files whose
name starts with ``_`` are partials for ``{% include %}`` / ``{% extends %}`` (footers, layouts).

Directories are searched in order: the institution's own (``PLUSMA_MAIL_TEMPLATES``) first, then
the shipped ``templates/``. A template's text and HTML always come from the same directory (the
first that has its ``.txt``), so overriding a text never leaves the old shipped HTML beside it.
Partials are looked up file by file, so one overridden ``_footer.lv.txt`` changes every template.

Template text may one day be written by process owners, hence the sandbox (no ``__class__`` walks,
no mutating the process's data) and ``StrictUndefined`` (a misspelt variable is an error naming the
template and the variable, not a silently empty sentence in a letter to a citizen).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from jinja2 import BaseLoader, Environment, StrictUndefined, TemplateNotFound, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from .errors import BadNotification, UnknownTemplate

SHIPPED_TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
DEFAULT_LANGUAGE = "lv"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_TEMPLATE_FILE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_-]*)\.([a-z]{2,3})\.txt$")
#: Loader names: ``[<directory index>:]<file>[#subject|#body]``. The index pins a template to one
#: directory; ``#subject`` / ``#body`` select the part of a ``.txt`` before / after its first line.
_LOADER_NAME = re.compile(r"^(?:(\d+):)?([^#]+?)(?:#(subject|body))?$")
_SUBJECT_LINE = re.compile(r"^subject:[ \t]?(.*)$", re.IGNORECASE)
_UNDEFINED = re.compile(r"^'([^']+)' is undefined$")

#: Bounds for ``*`` and ``**`` in templates, so a template cannot exhaust memory or CPU with
#: ``'x' * 10**10``. Generous for any real letter.
MAX_REPEAT = 100_000
MAX_POWER_BITS = 100_000


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str | None
    #: The language actually used (the requested one, or the "lv" fallback).
    language: str
    #: The template file rendered, e.g. ``request_registered.lv.txt``.
    source: str


class MailTemplates:
    """The templates of one installation: institution directories first, then the shipped ones."""

    def __init__(self, extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> None:
        self.dirs: list[Path] = [Path(d) for d in extra_dirs] + [SHIPPED_TEMPLATES_DIR]
        for directory in self.dirs:
            if not directory.is_dir():
                # Rather than quietly sending the shipped texts instead of the institution's.
                raise ValueError(f"mail template directory {str(directory)!r} does not exist")
        self.environment: Environment = _MailSandbox(
            loader=_Loader(self.dirs),
            undefined=StrictUndefined,
            autoescape=_is_html,
            trim_blocks=True,
            lstrip_blocks=True,
            # A variable set to null prints as nothing rather than "None".
            finalize=lambda value: "" if value is None else value,
        )
        self.environment.filters["nl2br"] = nl2br

    def available(self) -> dict[str, list[str]]:
        """Template name -> the languages it exists in, over all directories."""
        found: dict[str, set[str]] = {}
        for directory in self.dirs:
            for path in directory.iterdir():
                match = _TEMPLATE_FILE.match(path.name)
                if match and path.is_file():
                    found.setdefault(match.group(1), set()).add(match.group(2))
        return {name: sorted(languages) for name, languages in sorted(found.items())}

    def render(self, name: str, context: Mapping[str, Any], language: str | None = None) -> RenderedMail:
        """Render template ``name`` in ``language`` (else "lv"); errors raise BadNotification."""
        if not isinstance(name, str) or not _NAME.match(name):
            raise BadNotification(f"not a template name: {name!r} (letters, digits, '_' and '-')", "template")
        index, lang = self._resolve(name, normalise_language(language))
        txt = f"{name}.{lang}.txt"
        context = {**context, "language": lang}
        subject = self._render(f"{index}:{txt}#subject", context)
        text = self._render(f"{index}:{txt}#body", context)
        html = None
        if (self.dirs[index] / f"{name}.{lang}.html").is_file():
            html = self._render(f"{index}:{name}.{lang}.html", context).strip() + "\n"
        # Whitespace (a line break in a variable, say) is collapsed: a subject is one header line.
        subject = " ".join(subject.split())
        if not subject:
            raise BadNotification(f"template {txt} rendered an empty subject", "template")
        return RenderedMail(subject, text.strip("\n").rstrip() + "\n", html, lang, txt)

    def _resolve(self, name: str, language: str) -> tuple[int, str]:
        for lang in dict.fromkeys([language, DEFAULT_LANGUAGE]):
            for index, directory in enumerate(self.dirs):
                if (directory / f"{name}.{lang}.txt").is_file():
                    return index, lang
        available = self.available()
        if name in available:
            wanted = f"'{language}'" if language == DEFAULT_LANGUAGE else f"'{language}' nor '{DEFAULT_LANGUAGE}'"
            raise BadNotification(
                f"template '{name}' exists only in {', '.join(available[name])}, not in {wanted}", "language"
            )
        raise UnknownTemplate(name, list(available))

    def _render(self, loader_name: str, context: Mapping[str, Any]) -> str:
        try:
            return self.environment.get_template(loader_name).render(context)
        except TemplateSyntaxError as exc:
            where = f"template {self._display(exc.filename or loader_name)}, line {exc.lineno}"
            raise BadNotification(f"{where}: {exc.message}", "template") from None
        except TemplateNotFound as exc:
            where = self._where(exc.__traceback__, loader_name)
            raise BadNotification(f"{where}: includes '{exc.name}', which does not exist", "template") from None
        except UndefinedError as exc:
            where = self._where(exc.__traceback__, loader_name)
            missing = _UNDEFINED.match(exc.message or "")
            if missing:
                raise BadNotification(
                    f"{where}: variable '{missing.group(1)}' is not set (pass it as a process variable or parameter)",
                    "template",
                ) from None
            raise BadNotification(f"{where}: {exc.message}", "template") from None
        except SecurityError as exc:
            where = self._where(exc.__traceback__, loader_name)
            raise BadNotification(f"{where}: refused by the template sandbox: {exc}", "template") from None
        except Exception as exc:  # noqa: BLE001 - e.g. TypeError from a filter; report where, keep it one line
            where = self._where(exc.__traceback__, loader_name)
            raise BadNotification(f"{where}: {type(exc).__name__}: {exc}", "template") from None

    def _where(self, tb: TracebackType | None, loader_name: str) -> str:
        """ "template <file>, line <n>" from Jinja's rewritten traceback (its frames carry template lines)."""
        found = None
        while tb is not None:
            filename = tb.tb_frame.f_code.co_filename
            if filename.endswith((".txt", ".html")) and any(_is_under(filename, d) for d in self.dirs):
                found = (filename, tb.tb_lineno)
            tb = tb.tb_next
        if found is None:
            return f"template {_LOADER_NAME.match(loader_name).group(2)}"
        return f"template {self._display(found[0])}, line {found[1]}"

    def _display(self, filename: str) -> str:
        """Shipped templates by file name; institution ones by full path, so it is clear which file to fix."""
        path = Path(filename)
        if not path.is_absolute():  # a loader name, not a path
            match = _LOADER_NAME.match(filename)
            return match.group(2) if match else filename
        return path.name if _is_under(filename, SHIPPED_TEMPLATES_DIR) else str(path)


def normalise_language(language: object) -> str:
    """ "lv", "LV", "en-GB", "en_US" -> "lv", "lv", "en", "en"; empty -> the default."""
    if language is None or language == "":
        return DEFAULT_LANGUAGE
    if not isinstance(language, str):
        raise BadNotification(f"expected a language code such as 'lv' or 'en', not {language!r}", "language")
    code = re.split(r"[-_]", language.strip(), maxsplit=1)[0].lower()
    if not _LANGUAGE.match(code):
        raise BadNotification(f"expected a language code such as 'lv' or 'en', not {language!r}", "language")
    return code


def nl2br(value: Any) -> Markup:
    """HTML filter: escape, then keep the line breaks of a multi-line text (a result, an answer)."""
    lines = str(escape("" if value is None else value)).splitlines()
    return Markup("<br>\n".join(lines))


def _is_html(name: str | None) -> bool:
    """Autoescape HTML templates only: escaping a plain-text letter would print "&amp;" to the reader."""
    if name is None:
        return False
    match = _LOADER_NAME.match(name)
    return bool(match) and match.group(2).endswith(".html")


def _is_under(filename: str, directory: Path) -> bool:
    try:
        return Path(filename).resolve().is_relative_to(directory.resolve())
    except (OSError, ValueError):
        return False


class _Loader(BaseLoader):
    """Files from the template directories (first match wins), plus the subject/body split of ``.txt``."""

    def __init__(self, dirs: list[Path]) -> None:
        self.dirs = dirs

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        match = _LOADER_NAME.match(template)
        if not match:
            raise TemplateNotFound(template)
        index, filename, part = match.groups()
        pieces = split_template_path(filename)  # refuses "..", so no reading outside the directories
        if index is None:
            dirs = self.dirs
        elif int(index) < len(self.dirs):
            dirs = [self.dirs[int(index)]]
        else:
            raise TemplateNotFound(template)
        for directory in dirs:
            path = directory.joinpath(*pieces)
            if path.is_file():
                break
        else:
            raise TemplateNotFound(filename)
        source = path.read_text(encoding="utf-8-sig")
        mtime = path.stat().st_mtime

        def uptodate() -> bool:
            try:
                return path.stat().st_mtime == mtime
            except OSError:
                return False

        if part is not None:
            first, _, rest = source.partition("\n")
            subject = _SUBJECT_LINE.match(first.rstrip("\r"))
            if subject is None:
                raise TemplateSyntaxError("the first line must be 'Subject: ...'", 1, name=template, filename=str(path))
            # The body keeps a leading newline so Jinja's line numbers match the file's.
            source = subject.group(1) if part == "subject" else "\n" + rest
        return source, str(path), uptodate

    def list_templates(self) -> list[str]:
        names = set()
        for directory in self.dirs:
            if directory.is_dir():
                names.update(p.name for p in directory.iterdir() if p.is_file())
        return sorted(names)


class _MailSandbox(ImmutableSandboxedEnvironment):
    """The Jinja sandbox (no private attributes, no mutating lists or dicts) with bounded ``*`` and ``**``."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(left, int) and isinstance(right, int):
            if left.bit_length() * abs(right) > MAX_POWER_BITS:
                raise SecurityError(f"power {left} ** {right} is too large")
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(count, int) and len(seq) * count > MAX_REPEAT:
                    raise SecurityError(f"repetition result is too long (limit {MAX_REPEAT})")
        return super().call_binop(context, operator, left, right)
