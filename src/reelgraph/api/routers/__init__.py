"""One router per package; each is mounted under ``/api/v1/<package>``."""
