"""Credentials never leave in a message: URLs are shown with their password masked.

``mask`` rewrites every ``scheme://user:password@host`` in a text to
``scheme://user:***@host`` (and a bare ``scheme://:password@``), wherever the URL sits: in
our own messages and in a driver's error text quoted inside them.
"""

from __future__ import annotations

import re

# scheme://[user]:password@ ; the password runs to the last '@' before the host. Bounded
# repeats: messages quote what clients sent, and an unbounded pattern is quadratic on a long
# run of letters (a 20 kB path took seconds).
_CREDENTIALS = re.compile(
    r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]{0,31}://[^:/@\s]{0,256}):[^\s/]{0,1024}@")
# libpq's key=value form: password=secret
_KEY_VALUE = re.compile(r"(?P<head>\bpassword\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)


def mask(text: str) -> str:
    """``text`` with every password in a URL or ``password=`` pair replaced by ``***``."""
    if "://" in text:
        text = _CREDENTIALS.sub(lambda m: f"{m['head']}:***@", text)
    if "password" in text.lower():
        text = _KEY_VALUE.sub(lambda m: f"{m['head']}***", text)
    return text
