"""The error of a form the staff UI cannot render or evaluate."""

from __future__ import annotations

from engine.errors import BadRequest


class FormError(BadRequest):
    """A form schema (or its translation) the UI cannot render; names the form and the component."""

    def __init__(self, message: str, form_id: str | None = None, component_id: str | None = None) -> None:
        self.form_id = form_id
        self.component_id = component_id
        self.reason = message
        where = []
        if form_id:
            where.append(f"form {form_id!r}")
        if component_id:
            where.append(f"component {component_id!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
