"""Connecting to the database, with errors that name the server (never its password) and the fix."""

from __future__ import annotations

import re

from index.errors import StoreError

CONNECT_TIMEOUT_S = 10
APPLICATION_NAME = "caaht"


class DatabaseUnavailable(StoreError):
    """The database cannot be reached or lacks something the backend needs."""

    def __init__(self, url: str, detail: str, fix: str | None = None):
        super().__init__(redact(url), detail,
                         fix=fix or "check the URL given by --database-url or $CAAHT_DATABASE_URL "
                                    "and that the server is running")


def redact(url: str) -> str:
    """The URL with any password replaced by ***, fit for messages and logs."""
    url = re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)
    return re.sub(r"(password=)[^&\s]*", r"\1***", url)


def connect(url: str, *, autocommit: bool = False):
    """A psycopg connection, or DatabaseUnavailable naming the server and the fix."""
    try:
        import psycopg
    except ImportError as exc:
        raise DatabaseUnavailable(url, f"the PostgreSQL client is not installed ({exc})",
                                  fix="pip install -r requirements.txt") from exc
    try:
        return psycopg.connect(url, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT_S,
                               application_name=APPLICATION_NAME)
    except psycopg.Error as exc:
        raise DatabaseUnavailable(url, f"cannot connect to PostgreSQL ({_first_line(exc)})") from exc


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
