"""form-js ("Camunda Forms") forms for the staff UI: reading a schema with its translation, FEEL hide
conditions, the values that prefill a form, and server-side validation of a submitted form.

No Flask here: the web layer passes in what the browser sent and renders what comes back.
"""

from engine.forms.display import field_values, hidden_field_ids, is_hidden, visible_fields
from engine.forms.errors import FormError
from engine.forms.feel import FeelError
from engine.forms.schema import Field, Form, parse_form
from engine.forms.validation import FieldError, Submission, validate_submission

__all__ = [
    "FeelError",
    "Field",
    "FieldError",
    "Form",
    "FormError",
    "Submission",
    "field_values",
    "hidden_field_ids",
    "is_hidden",
    "parse_form",
    "validate_submission",
    "visible_fields",
]
