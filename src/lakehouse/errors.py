"""Errors the project reports to people as one clear line."""

from __future__ import annotations


class LakehouseError(Exception):
    """A problem with input, configuration or the environment, explained in one line."""


def one_line(error: BaseException, limit: int = 300) -> str:
    """The most telling line of an error: for a Java exception raised through Py4J, the message of
    its root cause (`java.io.IOException: No space left on device`), not Py4J's "An error occurred
    while calling o123.save" and the Java stack under it."""
    java = getattr(error, "java_exception", None)
    if java is not None:
        try:
            cause = java
            while cause.getCause() is not None:
                cause = cause.getCause()
            return f"{cause.getClass().getName()}: {cause.getMessage()}"[:limit]
        except Exception:  # the JVM is gone: fall back to the Python text
            pass
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:limit]
