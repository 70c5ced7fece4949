"""The connectors Plūsma runs itself for service tasks (``camunda:connector``): today ``mail-send``.

A connector takes the task's evaluated input parameters and the instance's variables and returns its
outputs, which ``camunda:outputParameter`` mappings can turn into process variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.notifications import BadNotification, EmailNotifier, RecipientsRefused
from engine.services.jobs import Connector, PermanentFailure

MAIL_SEND = "mail-send"


def mail_send(notifier: EmailNotifier) -> Connector:
    """Camunda's mail connector: send an e-mail, from a template or from subject and text."""

    def send(parameters: Mapping[str, Any], variables: Mapping[str, Any]) -> dict[str, Any]:
        try:
            message_id = notifier.notify(parameters, variables)
        except BadNotification as error:
            # Wrong parameters or template: sending again cannot help, a person must fix the model or data.
            raise PermanentFailure(str(error)) from error
        except RecipientsRefused as error:
            if error.delivered:
                # Some recipients have the mail: a retry would send it to them twice.
                raise PermanentFailure(str(error)) from error
            raise
        return {"messageId": message_id}

    return send


def default_connectors(notifier: EmailNotifier) -> dict[str, Connector]:
    return {MAIL_SEND: mail_send(notifier)}
