"""Read a secret from the environment variable the config names, and keep it out of
everything we print or store."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from connectors.errors import AuthError

_SECRET_PARAMS = re.compile(r"([?&](?:key|apikey|api_key|token|access_token|client_secret|refresh_token|password)=)[^&#\s]+", re.I)


class MissingCredential(AuthError):
    """The environment variable the config names is not set."""


def env_secret(name: str, *, key: str) -> str:
    """The value of environment variable `name`, which the config names in `key`."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise MissingCredential(f"environment variable {name} is not set (the config names it in {key})")
    return value


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every known secret value and secret-looking URL parameter replaced."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return _SECRET_PARAMS.sub(r"\1[redacted]", text)
