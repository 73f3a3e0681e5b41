"""Moodle web services emulator: ``/moodle/webservice/rest/server.php`` and token.php.

Faithful to vendors.md section 6 and to Moodle's ``webservice/lib.php`` request flow:

* GET or POST, parameters from the query string and/or an urlencoded body (the body wins, as
  with PHP's ``$_REQUEST``), arrays in bracket notation (``criteria[0][key]=email``,
  ``options[0][name]=limitfrom``, ``options[ids][0]=2``).
* Checks run in Moodle's order: token (``invalidtoken``), function exists (``invalidrecord`` on
  table ``external_functions``), token's service allows the function (``accessexception``),
  then parameter validation (``invalidparameter`` with a ``debuginfo``, including "Unexpected
  keys ... detected in parameter array"). Every error is **HTTP 200** with
  ``{"exception", "errorcode", "message"[, "debuginfo"]}``: this site behaves as one with
  developer debugging on, so ``debuginfo`` is present where Moodle sets one.
* Without ``moodlewsrestformat=json`` the answer is Moodle's REST XML (``sandbox.moodle_xml``).
* ``core_enrol_get_enrolled_users`` honours ``limitfrom``/``limitnumber`` (the only paging
  among these functions), ``onlyactive``, ``userfields``, ``sortby``/``sortdirection``; an
  unknown course is ``dml_missing_record_exception`` on table ``course`` as
  ``$DB->get_record(..., MUST_EXIST)`` raises it.
* ``core_user_get_users`` matches ``id``, ``username``, ``idnumber``, ``auth`` exactly and
  ``email``, ``firstname``, ``lastname`` with case-insensitive SQL LIKE (``%`` and ``_``);
  an unsupported key is a warning ``invalidfieldparameter`` and a repeated key an exception.
* ``login/token.php`` answers ``{"token", "privatetoken": null}`` or the AJAX error shape
  ``{"error", "errorcode", "stacktrace", "debuginfo", "reproductionlink"}``.
* Injected 500s are an HTML page from the web server (what a crashed PHP host returns), 429s
  (Moodle has no limiter of its own; a WAF's) an HTML page with ``Retry-After``.

The functions themselves live in ``sandbox.moodle_functions``. Not emulated: multipart request
bodies, functions other than the five in ``moodle_functions.FUNCTIONS``.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response

from sandbox import moodle_xml
from sandbox.faults import FaultKind
from sandbox.formparams import nest, request_pairs
from sandbox.moodle_functions import (
    ACCESS_DEBUG,
    FUNCTIONS,
    Call,
    MoodleException,
    invalid_parameter,
    missing_record,
)
from sandbox.state import SandboxState, VendorState

HTML_500 = (
    "<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n"
    "<center><h1>500 Internal Server Error</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
HTML_429 = (
    "<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n"
    "<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


# ---- HTTP ----------------------------------------------------------------------------------


def _render(value: Any, fmt: str) -> Response:
    if fmt == "json":
        return Response(
            json.dumps(value, separators=(",", ":")),
            media_type="application/json; charset=utf-8",
        )
    return Response(moodle_xml.render(value), media_type="application/xml; charset=utf-8")


def _render_error(error: MoodleException, fmt: str) -> Response:
    if fmt == "json":
        return Response(
            json.dumps(error.body, separators=(",", ":")),
            media_type="application/json; charset=utf-8",
        )
    return Response(
        moodle_xml.render_exception(error.body), media_type="application/xml; charset=utf-8"
    )


def throttled_response(retry_after: int) -> Response:
    return Response(
        HTML_429,
        status_code=429,
        media_type="text/html",
        headers={"Retry-After": str(retry_after)},
    )


def fault_response(kind: FaultKind, vendor: VendorState) -> Response:
    """What a broken or throttling Moodle host returns (HTML, not Moodle JSON)."""
    if kind is FaultKind.THROTTLE:
        return throttled_response(vendor.faults.retry_after_s)
    return Response(HTML_500, status_code=500, media_type="text/html")


def build_router(state: SandboxState) -> APIRouter:
    """Routes under ``/moodle``."""
    router = APIRouter(prefix="/moodle", include_in_schema=False)

    @router.api_route("/webservice/rest/server.php", methods=["GET", "POST"])
    async def rest_server(request: Request) -> Response:
        params = nest(await request_pairs(request))
        vendor = state.moodle
        fmt = "json" if params.pop("moodlewsrestformat", "xml") == "json" else "xml"
        token = params.pop("wstoken", "")
        function = params.pop("wsfunction", None)
        token = token if isinstance(token, str) else ""
        if not vendor.allow_request(token or "-"):
            return throttled_response(1)
        try:
            with vendor.lock:
                if token not in vendor.tokens:
                    raise MoodleException(
                        "moodle_exception", "invalidtoken", "Invalid token - token not found"
                    )
                if not function or not isinstance(function, str):
                    raise invalid_parameter("Missing function name")
                handler = FUNCTIONS.get(function)
                if handler is None:
                    raise missing_record("external_functions", "name", function)
                allowed = vendor.tokens[token]
                if allowed is not None and function not in allowed:
                    raise MoodleException(
                        "webservice_access_exception",
                        "accessexception",
                        "Access control exception",
                        ACCESS_DEBUG.format(fn=function),
                    )
                result = handler(Call(vendor, vendor.site_url, token, params))
        except MoodleException as error:
            return _render_error(error, fmt)
        return _render(result, fmt)

    @router.api_route("/login/token.php", methods=["GET", "POST"])
    async def login_token(request: Request) -> Response:
        params = nest(await request_pairs(request))
        vendor = state.moodle
        for name in ("username", "password", "service"):
            if not isinstance(params.get(name), str) or params.get(name) == "":
                return _login_error(f"A required parameter ({name}) was missing", "missingparam")
        username = str(params["username"]).strip().lower()
        with vendor.lock:
            login = vendor.logins.get(username)
            if login is None or login.password != params["password"]:
                return _login_error("Invalid login, please try again", "invalidlogin")
            if params["service"] not in vendor.services:
                return _login_error(
                    "Web service is not available (it doesn't exist or might be disabled)",
                    "servicenotavailable",
                )
            return Response(
                json.dumps({"token": login.token, "privatetoken": None}),
                media_type="application/json; charset=utf-8",
            )

    @router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    async def not_found(path: str) -> Response:
        return Response(
            "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1>"
            "<p>The requested URL was not found on this server.</p></body></html>",
            status_code=404,
            media_type="text/html",
        )

    return router


def _login_error(message: str, errorcode: str) -> Response:
    body = {
        "error": message,
        "errorcode": errorcode,
        "stacktrace": None,
        "debuginfo": None,
        "reproductionlink": None,
    }
    return Response(json.dumps(body), media_type="application/json; charset=utf-8")
