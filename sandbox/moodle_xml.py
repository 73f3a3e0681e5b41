"""Moodle's REST XML encoding, used when ``moodlewsrestformat`` is not ``json``.

Moodle's REST server answers in XML unless the client asks for JSON (``moodlewsrestformat``
defaults to ``xml`` in ``webservice/rest/server.php``): ``<RESPONSE>`` wrapping
``<MULTIPLE>``/``<SINGLE>``/``<KEY name>``/``<VALUE>`` elements, and errors as
``<EXCEPTION class="..."><ERRORCODE/><MESSAGE/><DEBUGINFO/></EXCEPTION>``. A connector that
forgets ``moodlewsrestformat=json`` gets XML here too, as it would from a real site.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape, quoteattr

_HEADER = '<?xml version="1.0" encoding="UTF-8" ?>\n'


def _value(value: Any) -> str:
    if value is None:
        return '<VALUE null="null"/>'
    if isinstance(value, dict):
        keys = "".join(
            f"<KEY name={quoteattr(str(k))}>{_value(v)}</KEY>\n" for k, v in value.items()
        )
        return f"<SINGLE>\n{keys}</SINGLE>\n"
    if isinstance(value, list):
        return "<MULTIPLE>\n" + "".join(_value(v) for v in value) + "</MULTIPLE>\n"
    if isinstance(value, bool):
        return f"<VALUE>{int(value)}</VALUE>"
    return f"<VALUE>{escape(str(value))}</VALUE>"


def render(value: Any) -> str:
    """A successful response."""
    return f"{_HEADER}<RESPONSE>\n{_value(value)}</RESPONSE>\n"


def render_exception(error: dict[str, Any]) -> str:
    """An error object ``{"exception", "errorcode", "message"[, "debuginfo"]}``."""
    parts = [f"<EXCEPTION class={quoteattr(str(error.get('exception', '')))}>\n"]
    if error.get("errorcode") is not None:
        parts.append(f"<ERRORCODE>{escape(str(error['errorcode']))}</ERRORCODE>\n")
    parts.append(f"<MESSAGE>{escape(str(error.get('message', '')))}</MESSAGE>\n")
    if error.get("debuginfo") is not None:
        parts.append(f"<DEBUGINFO>{escape(str(error['debuginfo']))}</DEBUGINFO>\n")
    parts.append("</EXCEPTION>\n")
    return _HEADER + "".join(parts)
