"""The five Moodle web service functions the sandbox serves, with Moodle's parameter checks.

Each function receives the already-nested request parameters (``sandbox.formparams``) and
behaves as its Moodle 4.x ``external_api`` implementation does (vendors.md section 6):
``validate_parameters`` rejects unexpected keys, missing required keys and non-integers with
``invalid_parameter_exception`` (errorcode ``invalidparameter``, a ``debuginfo`` naming the
key); a course or user looked up with ``MUST_EXIST`` and absent raises
``dml_missing_record_exception`` (``invalidrecord``). ``core_enrol_get_enrolled_users`` applies
its options as ``enrol/externallib.php`` does (``limitfrom``/``limitnumber`` with
``clean_param(PARAM_INT)``, ``onlyactive``, ``userfields``, validated ``sortby`` /
``sortdirection``; default order ``us.id ASC``). ``core_user_get_users`` matches ``id``,
``username``, ``idnumber``, ``auth`` exactly and ``email``, ``firstname``, ``lastname`` with
case-insensitive SQL LIKE; an unsupported key is a ``invalidfieldparameter`` warning, a repeated
key an exception (``keyalreadyset``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.moodle_data import FIRST_USER_ID, SITE_COURSE_ID
from sandbox.state import MoodleVendorState

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
