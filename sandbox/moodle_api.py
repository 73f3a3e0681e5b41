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

Not emulated: multipart request bodies, functions other than the five listed in ``FUNCTIONS``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response

from sandbox import moodle_xml
from sandbox.faults import FaultKind
from sandbox.formparams import nest, request_pairs
from sandbox.moodle_data import FIRST_USER_ID, SITE_COURSE_ID
from sandbox.state import MoodleVendorState, SandboxState, VendorState

RELEASE = "4.3.3 (Build: 20240212)"
VERSION = "2023100903"
_INT_RE = re.compile(r"^-?\d+$")
ACCESS_DEBUG = (
    "Access to the function {fn}() is not allowed. There could be multiple reasons for this: "
    "1. The service linked to the user token does not contain the function. 2. The service is "
    "user-restricted and the user is not listed. 3. The service is IP-restricted and the user "
    "IP is not listed. 4. The service is time-restricted and the time has expired. 5. The token "
    "is time-restricted and the time has expired. 6. The service requires a specific "
    "capability which the user does not have. 7. The function is called with username/password "
    "(no user token is sent) and none of the services has the function to allow the user. "
    "These settings can be found in Administration > Site administration > Server > Web "
    "services > External services and Manage tokens."
)
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


class MoodleException(Exception):
    """A Moodle exception as the REST server serialises it."""

    def __init__(
        self, exception: str, errorcode: str, message: str, debuginfo: str | None = None
    ) -> None:
        super().__init__(message)
        self.body: dict[str, Any] = {
            "exception": exception,
            "errorcode": errorcode,
            "message": message,
        }
        if debuginfo is not None:
            self.body["debuginfo"] = debuginfo


def invalid_parameter(debuginfo: str) -> MoodleException:
    return MoodleException(
        "invalid_parameter_exception",
        "invalidparameter",
        "Invalid parameter value detected",
        debuginfo,
    )


def missing_record(table: str, where: str, value: Any) -> MoodleException:
    return MoodleException(
        "dml_missing_record_exception",
        "invalidrecord",
        f"Can't find data record in database table {table}.",
        f"SELECT * FROM {{{table}}} WHERE {where} = ?\n[array (\n  0 => {value!r},\n)]",
    )


# ---- parameter validation ------------------------------------------------------------------


def _check_keys(params: dict[str, Any], allowed: set[str]) -> None:
    unexpected = [k for k in params if k not in allowed]
    if unexpected:
        raise invalid_parameter(
            f"Unexpected keys ({', '.join(unexpected)}) detected in parameter array."
        )


def _as_int(name: str, value: Any) -> int:
    if not isinstance(value, str) or not _INT_RE.match(value):
        shown = value if isinstance(value, str) else "array"
        raise invalid_parameter(
            f"{name} => Invalid parameter value detected (Invalid external api parameter: "
            f'the value is "{shown}", the server was expecting "int" type)'
        )
    return int(value)


def _required_int(params: dict[str, Any], name: str) -> int:
    if name not in params:
        raise invalid_parameter(f"Missing required key in single structure: {name}")
    return _as_int(name, params[name])


def _optional_int(params: dict[str, Any], name: str, default: int) -> int:
    return _as_int(name, params[name]) if name in params else default


def _structures(params: dict[str, Any], name: str, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """A ``external_multiple_structure`` of single structures with required ``keys``."""
    value = params.get(name, [])
    if value == "":
        value = []
    if not isinstance(value, list):
        raise invalid_parameter(f"{name} => Only arrays accepted. The bad value is: '{value}'")
    out = []
    for item in value:
        if not isinstance(item, dict):
            raise invalid_parameter(f"{name} => Only arrays accepted. The bad value is: '{item}'")
        for key in keys:
            if key not in item:
                raise invalid_parameter(
                    f"{name} => Invalid parameter value detected (Missing required key in "
                    f"single structure: {key})"
                )
        out.append(item)
    return out


def _clean_int(value: Any) -> int:
    """PHP ``clean_param(PARAM_INT)``: the leading integer, else 0."""
    match = re.match(r"^\s*(-?\d+)", str(value))
    return int(match.group(1)) if match else 0


def _like(pattern: str) -> re.Pattern[str]:
    parts = []
    for ch in pattern:
        if ch == "%":
            parts.append(".*")
        elif ch == "_":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("^" + "".join(parts) + "$", re.IGNORECASE | re.DOTALL)


# ---- functions -----------------------------------------------------------------------------


@dataclass
class Call:
    vendor: MoodleVendorState
    site_url: str
    token: str
    params: dict[str, Any]


def _allowed_functions(vendor: MoodleVendorState, token: str) -> list[str]:
    allowed = vendor.tokens.get(token)
    return sorted(FUNCTIONS) if allowed is None else sorted(f for f in allowed if f in FUNCTIONS)


def site_info(call: Call) -> dict[str, Any]:
    _check_keys(call.params, {"serviceshortnames"})
    vendor = call.vendor
    return {
        "sitename": vendor.site_name,
        "username": "admin",
        "firstname": "Admin",
        "lastname": "User",
        "fullname": "Admin User",
        "lang": "en",
        "userid": 2,
        "siteurl": call.site_url,
        "userpictureurl": f"{call.site_url}/theme/image.php/boost/core/1700000000/u/f1",
        "functions": [
            {"name": name, "version": VERSION} for name in _allowed_functions(vendor, call.token)
        ],
        "downloadfiles": 0,
        "uploadfiles": 0,
        "release": RELEASE,
        "version": VERSION,
        "mobilecssurl": "",
        "advancedfeatures": [
            {"name": "usecomments", "value": 1},
            {"name": "usetags", "value": 1},
            {"name": "enablenotes", "value": 1},
            {"name": "enablebadges", "value": 1},
            {"name": "enablecompletion", "value": 1},
        ],
        "usercanmanageownfiles": True,
        "userquota": 104857600,
        "usermaxuploadfilesize": 104857600,
        "userhomepage": 1,
        "userprivateaccesskey": "",
        "siteid": SITE_COURSE_ID,
        "sitecalendartype": "gregorian",
        "usercalendartype": "gregorian",
        "userissiteadmin": True,
        "theme": "boost",
        "limitconcurrentlogins": 0,
        "policyagreed": 1,
    }


def get_courses(call: Call) -> list[dict[str, Any]]:
    params = call.params
    _check_keys(params, {"options"})
    options = params.get("options", {})
    if options == "" or options == []:
        options = {}
    if not isinstance(options, dict):
        raise invalid_parameter(f"options => Only arrays accepted. The bad value is: '{options}'")
    _check_keys(options, {"ids"})
    dataset = call.vendor.dataset
    if "ids" not in options:
        return dataset.courses(call.vendor.site_name)
    ids = options["ids"]
    if not isinstance(ids, list):
        raise invalid_parameter(f"ids => Only arrays accepted. The bad value is: '{ids}'")
    wanted = {_as_int("ids", v) for v in ids}
    return [c for c in dataset.courses(call.vendor.site_name) if c["id"] in wanted]


_USER_EXACT = ("id", "idnumber", "username", "auth")
_USER_LIKE = ("email", "lastname", "firstname")


def get_users(call: Call) -> dict[str, Any]:
    params = call.params
    _check_keys(params, {"criteria"})
    if "criteria" not in params:
        raise invalid_parameter("Missing required key in single structure: criteria")
    criteria = _structures(params, "criteria", ("key", "value"))
    warnings: list[dict[str, Any]] = []
    conditions: list[tuple[str, str]] = []
    used: set[str] = set()
    for crit in criteria:
        key, value = str(crit["key"]), crit["value"]
        if key in used:
            raise MoodleException(
                "moodle_exception",
                "keyalreadyset",
                "error/keyalreadyset",
                f"The key {key} can only be sent once",
            )
        used.add(key)
        if key not in _USER_EXACT and key not in _USER_LIKE:
            warnings.append(
                {
                    "item": key,
                    "warningcode": "invalidfieldparameter",
                    "message": f"The search key '{key}' is not supported, look at the web "
                    "service documentation",
                }
            )
            continue
        conditions.append((key, str(value)))
    users: list[dict[str, Any]] = []
    if conditions and all(k in _USER_LIKE and set(v) == {"%"} for k, v in conditions):
        users = call.vendor.dataset.users()  # LIKE '%' matches every (non-null) value
    elif conditions:
        dataset = call.vendor.dataset
        candidates = _candidates(call.vendor, conditions)
        matchers = [(k, _like(v) if k in _USER_LIKE else None, v) for k, v in conditions]
        for index in candidates:
            fields = dataset.user_search_fields(index)
            if all(
                (rx.match(str(fields[k])) is not None) if rx else str(fields[k]) == v
                for k, rx, v in matchers
            ):
                found = dataset.user(FIRST_USER_ID + index)
                if found is not None:
                    users.append(found)
    return {"users": users, "warnings": warnings}


def _candidates(vendor: MoodleVendorState, conditions: list[tuple[str, str]]) -> Any:
    """Narrow exact lookups to one index (ids, usernames and idnumbers embed the user id)."""
    dataset = vendor.dataset
    for key, value in conditions:
        uid: int | None = None
        if key == "id" and _INT_RE.match(value):
            uid = int(value)
        elif key == "username":
            match = re.search(r"(\d+)$", value)
            uid = int(match.group(1)) if match else None
        elif key == "idnumber":
            match = re.fullmatch(r"SIS(\d+)", value)
            uid = int(match.group(1)) if match else None
        else:
            continue
        index = dataset.user_index(uid) if uid is not None else None
        return [] if index is None else [index]
    return dataset.live_user_indexes()


def get_enrolled_users(call: Call) -> list[dict[str, Any]]:
    params = call.params
    _check_keys(params, {"courseid", "options"})
    courseid = _required_int(params, "courseid")
    options = _structures(params, "options", ("name", "value"))
    onlyactive = False
    userfields: list[str] = []
    limitfrom = limitnumber = 0
    sortby, direction = "id", "ASC"
    for option in options:
        name, value = str(option["name"]), option["value"]
        if name == "onlyactive":
            onlyactive = bool(value) and value != "0"
        elif name == "userfields":
            userfields = [f.strip() for f in str(value).split(",") if f.strip()]
        elif name == "limitfrom":
            limitfrom = _clean_int(value)
        elif name == "limitnumber":
            limitnumber = _clean_int(value)
        elif name == "sortby":
            if value not in ("id", "firstname", "lastname", "siteorder"):
                raise invalid_parameter(
                    f"Invalid value for sortby parameter (value: {value}),allowed values are: "
                    "id,firstname,lastname,siteorder"
                )
            sortby = str(value)
        elif name == "sortdirection":
            direction = str(value).upper()
            if direction not in ("ASC", "DESC"):
                raise invalid_parameter(
                    f"Invalid value for sortdirection parameter (value: {direction}),allowed "
                    "values are: ASC,DESC"
                )
    dataset = call.vendor.dataset
    if courseid != SITE_COURSE_ID and dataset.course_index(courseid) is None:
        raise missing_record("course", "id", courseid)
    ids = dataset.enrolled_user_ids(courseid, onlyactive)
    if sortby != "id" or direction != "ASC":
        ids = _sorted_ids(call.vendor, ids, sortby, direction == "DESC")
    start = max(0, limitfrom)
    page = ids[start : start + limitnumber] if limitnumber > 0 else ids[start:]
    users = []
    for uid in page:
        user = dataset.enrolled_user(uid, courseid)
        if user is None:
            continue
        if userfields:
            user = {k: v for k, v in user.items() if k == "id" or k in userfields}
        users.append(user)
    return users


def _sorted_ids(vendor: MoodleVendorState, ids: list[int], sortby: str, desc: bool) -> list[int]:
    dataset = vendor.dataset

    def key(uid: int) -> tuple[str, str, int]:
        fields = dataset.user_search_fields(uid - FIRST_USER_ID)
        if sortby == "firstname":
            return (fields["firstname"], fields["lastname"], uid)
        if sortby in ("lastname", "siteorder"):
            return (fields["lastname"], fields["firstname"], uid)
        return ("", "", uid)

    return sorted(ids, key=key, reverse=desc)


def get_grade_items(call: Call) -> dict[str, Any]:
    params = call.params
    _check_keys(params, {"courseid", "userid", "groupid"})
    courseid = _required_int(params, "courseid")
    userid = _optional_int(params, "userid", 0)
    _optional_int(params, "groupid", 0)
    dataset = call.vendor.dataset
    if courseid != SITE_COURSE_ID and dataset.course_index(courseid) is None:
        raise missing_record("course", "id", courseid)
    if userid and dataset.user_index(userid) is None:
        raise missing_record("user", "id", userid)
    return {"usergrades": dataset.grade_items(courseid, userid), "warnings": []}


FUNCTIONS: dict[str, Callable[[Call], Any]] = {
    "core_webservice_get_site_info": site_info,
    "core_course_get_courses": get_courses,
    "core_user_get_users": get_users,
    "core_enrol_get_enrolled_users": get_enrolled_users,
    "gradereport_user_get_grade_items": get_grade_items,
}


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
