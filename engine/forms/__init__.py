"""form-js ("Camunda Forms") forms for the staff UI: reading a schema with its translation, FEEL hide
conditions, the values that prefill a form, and server-side validation of a submitted form.

No Flask here: the web layer passes in what the browser sent and renders what comes back.
"""
