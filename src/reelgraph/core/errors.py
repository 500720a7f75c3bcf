"""Every user-facing error names the problem and the fix.

The API maps these to 4xx responses with a JSON body (``status_code``); the CLI prints the
message in one red line and exits non-zero.
"""

from __future__ import annotations

from reelgraph.core.secrets import mask


class ReelgraphError(Exception):
    """Base class: ``problem`` says what is wrong, ``fix`` says what to do about it."""

    status_code = 400

    def __init__(self, problem: str, fix: str) -> None:
        # Messages quote URLs and drivers' errors; neither may carry a password out.
        self.problem = mask(problem)
        self.fix = mask(fix)
        super().__init__(f"{self.problem}. Fix: {self.fix}")

    def to_dict(self) -> dict[str, str]:
        return {"error": type(self).__name__, "problem": self.problem, "fix": self.fix}


class InvalidInput(ReelgraphError):
    """The caller sent something malformed (bad JSON, bad URI, wrong type)."""

    status_code = 422


class NotFound(ReelgraphError):
    """The thing asked for does not exist (HTTP 404)."""
    status_code = 404


class Conflict(ReelgraphError):
    """The request is well formed but breaks a rule of the stored data (e.g. a cycle)."""

    status_code = 409


class Unauthorized(ReelgraphError):
    """A write without the API token, or a read without it where reads are closed (HTTP 401)."""
    status_code = 401


class Unavailable(ReelgraphError):
    """Nothing is ready to answer yet (no model deployed, a server down): try later."""

    status_code = 503


class MissingDependency(ReelgraphError):
    """An optional extra is not installed."""

    status_code = 500

    def __init__(self, package: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the Python package '{package}', which is not installed",
            f"pip install '{package}'",
        )
