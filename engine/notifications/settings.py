"""Mail server settings, read from ``PLUSMA_SMTP_*`` / ``PLUSMA_MAIL_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .addresses import check_header_value, parse_addresses

SECURITY_MODES = ("none", "starttls", "ssl")


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 25
    #: "none" (plain SMTP, e.g. a relay on localhost), "starttls" (upgrade, usually port 587) or "ssl" (port 465).
    security: str = "none"
    #: Log in (AUTH) when a user name is set.
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    #: Seconds for connecting and for each server reply, so a hung server cannot block a job worker.
    timeout: float = 10.0
    sender: str = "plusma@localhost"
    sender_name: str = "Plūsma"

    def __post_init__(self) -> None:
        if self.security not in SECURITY_MODES:
            raise ValueError(f"security must be one of {', '.join(SECURITY_MODES)}, not {self.security!r}")
        if not 0 < self.port < 65536:
            raise ValueError(f"port must be 1..65535, not {self.port}")
        if not self.timeout > 0:
            raise ValueError(f"timeout must be positive, not {self.timeout}")
        _plain_address(self.sender, "sender")
        check_header_value(self.sender_name, "sender_name")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmtpSettings:
        """Settings from the environment; a bad value raises ValueError naming the variable."""
        env = os.environ if environ is None else environ
        values: dict = {}
        if env.get("PLUSMA_SMTP_HOST", "").strip():
            values["host"] = env["PLUSMA_SMTP_HOST"].strip()
        if env.get("PLUSMA_SMTP_PORT", "").strip():
            raw = env["PLUSMA_SMTP_PORT"].strip()
            try:
                port = int(raw)
            except ValueError:
                raise ValueError(f"PLUSMA_SMTP_PORT must be a whole number, not {raw!r}") from None
            if not 0 < port < 65536:
                raise ValueError(f"PLUSMA_SMTP_PORT must be 1..65535, not {port}")
            values["port"] = port
        if env.get("PLUSMA_SMTP_SECURITY", "").strip():
            security = env["PLUSMA_SMTP_SECURITY"].strip().lower()
            if security not in SECURITY_MODES:
                raise ValueError(f"PLUSMA_SMTP_SECURITY must be one of {', '.join(SECURITY_MODES)}, not {security!r}")
            values["security"] = security
        if env.get("PLUSMA_SMTP_USER"):
            values["username"] = env["PLUSMA_SMTP_USER"]
        if env.get("PLUSMA_SMTP_PASSWORD"):
            if "username" not in values:
                raise ValueError("PLUSMA_SMTP_PASSWORD is set but PLUSMA_SMTP_USER is not")
            values["password"] = env["PLUSMA_SMTP_PASSWORD"]
        if env.get("PLUSMA_SMTP_TIMEOUT", "").strip():
            raw = env["PLUSMA_SMTP_TIMEOUT"].strip()
            try:
                timeout = float(raw)
            except ValueError:
                raise ValueError(f"PLUSMA_SMTP_TIMEOUT must be a number of seconds, not {raw!r}") from None
            if not 0 < timeout < float("inf"):
                raise ValueError(f"PLUSMA_SMTP_TIMEOUT must be a positive number of seconds, not {raw!r}")
            values["timeout"] = timeout
        if env.get("PLUSMA_MAIL_FROM", "").strip():
            values["sender"] = _plain_address(env["PLUSMA_MAIL_FROM"].strip(), "PLUSMA_MAIL_FROM")
        if env.get("PLUSMA_MAIL_FROM_NAME", "").strip():
            name = env["PLUSMA_MAIL_FROM_NAME"].strip()
            check_header_value(name, "PLUSMA_MAIL_FROM_NAME")
            values["sender_name"] = name
        return cls(**values)


def template_dirs_from_env(environ: Mapping[str, str] | None = None) -> list[Path]:
    """Institution template directories from ``PLUSMA_MAIL_TEMPLATES`` (several separated by ``os.pathsep``).

    They are searched before the shipped templates. A directory that does not exist is an error
    rather than silently falling back to the shipped texts.
    """
    env = os.environ if environ is None else environ
    dirs = []
    for part in env.get("PLUSMA_MAIL_TEMPLATES", "").split(os.pathsep):
        if not part.strip():
            continue
        path = Path(part.strip())
        if not path.is_dir():
            raise ValueError(f"PLUSMA_MAIL_TEMPLATES: {str(path)!r} is not a directory")
        dirs.append(path)
    return dirs


def _plain_address(value: str, name: str) -> str:
    """``value`` as one address without a display name (that is ``sender_name``), else ValueError naming ``name``."""
    try:
        parsed = parse_addresses(value, name)
    except ValueError:
        parsed = []
    if len(parsed) != 1 or parsed[0].display_name:
        raise ValueError(f"{name} must be one plain e-mail address (name@domain), not {value!r}")
    return parsed[0].addr_spec
