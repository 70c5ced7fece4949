"""The front-end packages' built files, served from ``node_modules`` (installed by ``npm ci``, never committed).

Only the files the staff UI loads are served: bpmn-js's navigated viewer with its stylesheets and font,
axe-core (for the browser tests' accessibility check) and htmx. Every other path is 404, so nothing
else from ``node_modules`` (sources, package metadata, other packages) is reachable.

URLs keep the package's own layout: ``/vendor/bpmn-js/dist/assets/bpmn-js.css`` is
``node_modules/bpmn-js/dist/assets/bpmn-js.css``, so the stylesheets' relative font URLs resolve.
Templates link them with ``vendor_url(path)``, which adds the installed package's version as a query
string: the files are cached for a year, and an upgrade changes the URL.
"""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, Response, current_app, send_from_directory, url_for

from engine.config import PROJECT_ROOT

#: Where ``npm ci`` puts the packages; an app may point ``PLUSMA_NODE_MODULES`` elsewhere.
NODE_MODULES = PROJECT_ROOT / "node_modules"

_BPMN_ASSETS = "bpmn-js/dist/assets"
#: Every file served, as paths below ``node_modules``.
SERVED_FILES = frozenset(
    {
        "bpmn-js/dist/bpmn-navigated-viewer.production.min.js",
        f"{_BPMN_ASSETS}/bpmn-js.css",
        f"{_BPMN_ASSETS}/diagram-js.css",
        f"{_BPMN_ASSETS}/bpmn-font/css/bpmn.css",
        *(f"{_BPMN_ASSETS}/bpmn-font/font/bpmn.{kind}" for kind in ("eot", "svg", "ttf", "woff", "woff2")),
        "axe-core/axe.min.js",
        "htmx.org/dist/htmx.min.js",
    }
)

#: A year: the URLs templates use carry the package version, so an upgrade is a new URL.
CACHE_SECONDS = 365 * 24 * 3600

blp = Blueprint("vendor", __name__, url_prefix="/vendor")


def node_modules_root() -> Path:
    return Path(current_app.config.get("PLUSMA_NODE_MODULES", NODE_MODULES))


@blp.get("/<path:filename>")
def vendor_file(filename: str) -> Response:
    if filename not in SERVED_FILES:
        return _not_found(f"/vendor/{filename} is not one of the front-end files Plūsma serves.")
    root = node_modules_root()
    if not (root / filename).is_file():
        return _not_found(
            f"/vendor/{filename} is missing: the front-end packages are not installed in {root}. "
            f"Run `npm ci --no-audit --no-fund` in {root.parent}."
        )
    response = send_from_directory(root, filename, max_age=CACHE_SECONDS)
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response


def _not_found(message: str) -> Response:
    # Plain text: a browser or curl shows it as it is; the REST API's JSON errors are for /engine-rest.
    return Response(message + "\n", status=404, mimetype="text/plain")


def vendor_url(filename: str) -> str:
    """The URL of one served file with its package's installed version, e.g. ``...htmx.min.js?v=2.0.11``."""
    if filename not in SERVED_FILES:
        raise ValueError(f"vendor_url({filename!r}): not a served front-end file; one of {sorted(SERVED_FILES)}")
    version = package_version(node_modules_root(), filename.split("/", 1)[0])
    query = {"v": version} if version else {}
    return url_for("vendor.vendor_file", filename=filename, **query)


#: Versions read so far, by package.json path; a package not installed yet is not remembered.
_versions: dict[Path, str] = {}


def package_version(root: Path, package: str) -> str | None:
    """The ``version`` of ``root/package/package.json``; None when the package is not installed."""
    manifest = root / package / "package.json"
    if manifest not in _versions:
        try:
            _versions[manifest] = str(json.loads(manifest.read_text(encoding="utf-8"))["version"])
        except (OSError, ValueError, KeyError):
            return None
    return _versions[manifest]


@blp.app_context_processor
def _template_helpers() -> dict:
    return {"vendor_url": vendor_url}
