"""Credentials never leave in a message: URLs are shown with their password masked.

``mask`` rewrites every ``scheme://user:password@host`` in a text to
``scheme://user:***@host`` (and a bare ``scheme://:password@``), wherever the URL sits: in
our own messages and in a driver's error text quoted inside them.
"""

from __future__ import annotations

import re

# scheme://[user]:password@ ; the password runs to the last '@' before the host.
_CREDENTIALS = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*):[^\s/]*@")
# libpq's key=value form: password=secret
_KEY_VALUE = re.compile(r"(?P<head>\bpassword\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)


def mask(text: str) -> str:
    """``text`` with every password in a URL or ``password=`` pair replaced by ``***``."""
    text = _CREDENTIALS.sub(lambda m: f"{m['head']}:***@", text)
    return _KEY_VALUE.sub(lambda m: f"{m['head']}***", text)
