"""Moodle web services connector: courses, students, enrolments and grades, pull only.

Contract (see `connectors.base`): `SPEC` declares the resources; `MoodleConnector.read` yields
`Page`s whose `cursor` resumes the stream right after that page, and `test_connection` makes one
`core_webservice_get_site_info` call. Everything else lives in the shared modules; this module
holds only Moodle's quirks.

Moodle facts relied on (`shared/vendors.md` section 6; [V] vendor source or docs,
[C] community code, [M] unconfirmed):

- One endpoint, `{site}/webservice/rest/server.php`, with `wstoken`, `wsfunction` and
  `moodlewsrestformat=json`; GET and POST parameters are merged by the REST server, so the token
  and the function's arguments go in the form body (never in a URL) and `wsfunction` stays in
  the query string, where the audit log shows which function each call was. Array arguments use
  bracket notation: `criteria[0][key]=email`. [V]
- Errors come back as **HTTP 200** with `{"exception", "errorcode", "message"[, "debuginfo"]}`. [V]
  Codes handled: `invalidtoken` and `invalidtimedtoken` (and the `wsaccessuser*` account states)
  are auth failures; an `accessexception` whose message says "Invalid token" is too (newer
  Moodles throw expired tokens as access exceptions, as the Moodle app's own check shows [C]);
  `accessexception`, `nopermissions`, `requireloginerror`, `servicenotavailable` are permission
  failures; `sitemaintenance`, `upgraderunning` and database failures (`dbconnectionfailed`,
  `dmlreadexception`, ...: the REST server sends every PHP exception with HTTP 200 [V]) are
  transient; `invalidparameter` and `invalidrecord` (the code of an unknown `wsfunction`) are
  validation failures. Real HTTP 5xx and non-JSON bodies (a broken PHP host's HTML page) are
  handled by `VendorHttp`.
- `core_course_get_courses` returns a bare list of every course, including the front-page "site"
  course (`format == "site"`), which is not a course and is skipped. No paging. [V]
- `core_user_get_users` with criterion `email = %` returns `{"users": [...], "warnings": [...]}`
  with every (non-deleted) user; no paging, so the one list is cut into pages here. [V/M]
- `core_enrol_get_enrolled_users(courseid, options[limitfrom|limitnumber])` is the only function
  with real offset paging; users come ordered by id (`sortby` defaults to `us.id ASC`). [V]
- `gradereport_user_get_grade_items(courseid, userid=0)` returns
  `{"usergrades": [{"courseid", "userid", "gradeitems": [{"id", "itemname", "itemtype",
  "graderaw", "grademax", "gradeformatted", "gradedategraded", ...}]}]}` for all users; the
  course total is the item with `itemtype == "course"`. [V/M] (`core_grades_get_grades`, named in
  the product document, is absent from current Moodles and is not used.)
- Timestamps are unix seconds; 0 means "never". [V]

Incremental mode: Moodle has no modified-since filter on any of these functions (courses only
*return* `timemodified`), so incremental and full reads are the same full read; the store
recognises unchanged records by content hash. No `checkpoint` is ever emitted.

Resuming: lists that Moodle returns whole (courses, users, a course's grades) are sorted by id
and cut into pages; their cursors carry the last id as well as the offset, so a resume after the
vendor's list changed still continues right after the last committed record. Per-course streams
carry the course id beside its index for the same reason.
"""

from __future__ import annotations

import bisect
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

from connectors.base import (
    Connector,
    ConnectorContext,
    ConnectorSpec,
    Cursor,
    FieldSpec,
    Page,
    ReadRequest,
    Record,
    ResourceSpec,
    TestResult,
)
from connectors.errors import (
    ConnectorConfigError,
    VendorAuthError,
    VendorError,
    VendorMalformedResponse,
    VendorNotFoundError,
    VendorPermissionError,
    VendorUnavailable,
    VendorValidationError,
)
from connectors.http import VendorHttp, epoch_to_datetime
from connectors.models import Course, Enrolment, Grade, Student
from connectors.paging import chunked, offset_pages

WS_PATH = "webservice/rest/server.php"
DEFAULT_PAGE_SIZE = 500

FN_SITE_INFO = "core_webservice_get_site_info"
FN_COURSES = "core_course_get_courses"
FN_USERS = "core_user_get_users"
FN_ENROLLED = "core_enrol_get_enrolled_users"
FN_GRADES = "gradereport_user_get_grade_items"

SPEC = ConnectorSpec(
    type_id="moodle",
    display_name="Moodle",
    category="lms",
    auth_kind="ws_token",
    credential_fields=[FieldSpec(name="api_key", label="Web service token", secret=True)],
    config_fields=[],
    docs="https://docs.moodle.org/dev/Web_services",
    resources=[
        ResourceSpec(
            name="courses",
            model="courses",
            paginator="none: one core_course_get_courses call, cut into pages; cursor {offset}",
            record_path="$[?(@.format != 'site')]",
            description=(
                "core_course_get_courses. No modified-since filter at the vendor: every sync is a "
                "full read; timemodified is kept as modified_at and the store detects changes."
            ),
        ),
        ResourceSpec(
            name="students",
            model="students",
            paginator="none: one core_user_get_users call, cut into pages; cursor {offset}",
            record_path="users",
            description="core_user_get_users with criterion email=% (all users).",
        ),
        ResourceSpec(
            name="enrolments",
            model="enrolments",
            paginator="limitfrom/limitnumber per course; cursor {course_index, limitfrom}",
            record_path="$",
            description="core_enrol_get_enrolled_users for each course; vendor id courseid:userid.",
        ),
        ResourceSpec(
            name="grades",
            model="grades",
            paginator="one call per course, cut into pages; cursor {course_index, offset}",
            record_path="usergrades[].gradeitems[]",
            description=(
                "gradereport_user_get_grade_items with userid=0 for each course; one record per "
                "(course, user, grade item), course total included; vendor id "
                "courseid:userid:itemid."
            ),
        ),
    ],
)

# The functions each resource needs (besides the site info call of `test_connection`).
RESOURCE_FUNCTIONS: dict[str, tuple[str, ...]] = {
    "courses": (FN_COURSES,),
    "students": (FN_USERS,),
    "enrolments": (FN_COURSES, FN_ENROLLED),
    "grades": (FN_COURSES, FN_GRADES),
}

# Moodle error codes (HTTP 200 bodies) by class. See the module docstring for sources.
AUTH_CODES = frozenset(
    {
        "invalidtoken",
        "invalidtimedtoken",
        "wsaccessuserdeleted",
        "wsaccessusersuspended",
        "wsaccessusernologin",
        "wsaccessuserunconfirmed",
        "wsaccessuserexpired",
    }
)
PERMISSION_CODES = frozenset(
    {"accessexception", "nopermissions", "requireloginerror", "servicenotavailable"}
)
PERMISSION_EXCEPTIONS = frozenset(
    {"webservice_access_exception", "required_capability_exception", "require_login_exception"}
)
# Moodle's REST server turns *every* PHP exception into an HTTP 200 body, database outages too.
TRANSIENT_CODES = frozenset(
    {
        "sitemaintenance",
        "upgraderunning",
        "dbconnectionfailed",
        "dmlreadexception",
        "dmlwriteexception",
        "sessionwaiterr",
    }
)
_DEBUGINFO_LIMIT = 300


# --- request encoding and error classification --------------------------------------------


def flatten_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Moodle's bracket notation: `{"criteria": [{"key": "email"}]}` -> `criteria[0][key]`."""
    out: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if value is None:
            continue
        if isinstance(value, Mapping):
            out.update(flatten_params(value, name))
        elif isinstance(value, list | tuple):
            out.update(flatten_params({str(i): v for i, v in enumerate(value)}, name))
        elif isinstance(value, bool):
            out[name] = "1" if value else "0"
        else:
            out[name] = str(value)
    return out


def moodle_error(
    body: Any, function: str, clean: Callable[[str], str] | None = None
) -> VendorError | None:
    """The classified error of a Moodle exception body (sent with HTTP 200), else None.

    `clean` masks secrets in vendor text (pass `VendorHttp.clean`). The error's `message` is
    `"<function>: <vendor message>"`; `vendor_code` is Moodle's `errorcode`.
    """
    if not isinstance(body, dict) or "exception" not in body:
        return None
    scrub: Callable[[str], str] = clean or str
    exception = str(body.get("exception") or "")
    code = str(body.get("errorcode") or exception or "unknown")
    text = str(body.get("message") or code)
    debuginfo = body.get("debuginfo")
    if debuginfo and code == "invalidparameter":
        # Names the offending parameter. Other codes' debuginfo (SQL, stack) is not kept.
        text = f"{text} ({str(debuginfo).strip()[:_DEBUGINFO_LIMIT]})"
    message = f"{function}: {scrub(text)}"

    if code in AUTH_CODES or (
        code == "accessexception"
        and str(body.get("message", "")).startswith(("Invalid token", "Invalid session based"))
    ):
        return VendorAuthError(message, vendor_code=code)
    if code in PERMISSION_CODES or exception in PERMISSION_EXCEPTIONS:
        return VendorPermissionError(message, vendor_code=code)
    if code in TRANSIENT_CODES:
        # Maintenance mode, upgrades and database outages end by themselves: retry later.
        return VendorUnavailable(message, vendor_code=code)
    if code == "invalidrecord" and "external_functions" in text:
        return VendorValidationError(
            f"{function}: no such web service function on this Moodle site ({scrub(text)})",
            vendor_code=code,
        )
    # invalidparameter, invalidrecord (a missing course...), and any other code: Moodle raises
    # exceptions for problems with the request itself, which repeating it will not cure. Real
    # server trouble (PHP fatal errors, overload) arrives as HTTP 5xx or a non-JSON page and is
    # classified as transient by VendorHttp before the body is ever looked at.
    return VendorValidationError(message, vendor_code=code)


# --- shape checks and mapping (pure) -----------------------------------------------------------


def _malformed(function: str, what: str) -> VendorMalformedResponse:
    return VendorMalformedResponse(f"{function}: unexpected response shape: {what}")


def _text(value: Any) -> str | None:
    """Moodle sends "" for unset text fields; the unified models use None."""
    if value is None or value == "":
        return None
    return str(value)


def _obj_id(obj: Any, function: str, what: str, key: str = "id") -> int:
    if not isinstance(obj, dict):
        raise _malformed(function, f"{what} is {type(obj).__name__}, not an object")
    value = obj.get(key)
    if isinstance(value, bool) or value is None:
        raise _malformed(function, f"{what} without {key}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _malformed(function, f"{what} with non-integer {key} {value!r}") from None


def _float(value: Any, function: str, what: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _malformed(function, f"{what} is a boolean")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _malformed(function, f"{what} is not a number: {value!r}") from None


def _flag(value: Any, function: str, what: str) -> bool:
    """Moodle's PARAM_INT / PARAM_BOOL flags: 0/1, "0"/"1" or JSON booleans."""
    if isinstance(value, bool):
        return value
    try:
        return int(value) != 0
    except (TypeError, ValueError):
        raise _malformed(function, f"{what} is not a flag: {value!r}") from None


def _list(value: Any, function: str, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise _malformed(function, f"{what} is {type(value).__name__}, not a list")
    return value


def map_user(user: dict[str, Any]) -> Student:
    """A `core_user_get_users` user (or an enrolled user) as a unified `Student`."""
    _obj_id(user, FN_USERS, "user")
    first, last = _text(user.get("firstname")), _text(user.get("lastname"))
    full = _text(user.get("fullname")) or (" ".join(p for p in (first, last) if p) or None)
    return Student(
        first_name=first,
        last_name=last,
        full_name=full,
        email=_text(user.get("email")),
        username=_text(user.get("username")),
        student_number=_text(user.get("idnumber")),
        department=_text(user.get("department")),
        institution=_text(user.get("institution")),
        city=_text(user.get("city")),
        country=_text(user.get("country")),
        last_access_at=epoch_to_datetime(user.get("lastaccess")),
    )


def map_course(course: dict[str, Any]) -> Course:
    """A `core_course_get_courses` course as a unified `Course`."""
    course_id = _obj_id(course, FN_COURSES, "course")
    visible = course.get("visible")
    category = course.get("categoryid")
    return Course(
        code=_text(course.get("shortname")),
        name=_text(course.get("fullname")) or _text(course.get("shortname")) or f"#{course_id}",
        external_id=_text(course.get("idnumber")),
        category_id=None if category is None else str(category),
        starts_at=epoch_to_datetime(course.get("startdate")),
        ends_at=epoch_to_datetime(course.get("enddate")),
        visible=None if visible is None else _flag(visible, FN_COURSES, f"visible of {course_id}"),
        kind="course",
    )


def map_enrolment(user: dict[str, Any], course_id: int | str) -> Enrolment:
    """A `core_enrol_get_enrolled_users` user of one course as a unified `Enrolment`.

    Moodle does not say whether the enrolment is suspended in this object; status is "active".
    """
    user_id = _obj_id(user, FN_ENROLLED, "enrolled user")
    roles = user.get("roles") or []
    if not isinstance(roles, list):
        raise _malformed(FN_ENROLLED, f"roles of user {user_id} is not a list")
    return Enrolment(
        student_id=str(user_id),
        course_id=str(course_id),
        roles=[str(r["shortname"]) for r in roles if isinstance(r, dict) and r.get("shortname")],
        status="active",
        last_access_at=epoch_to_datetime(user.get("lastcourseaccess")),
    )


def map_grade(item: dict[str, Any], course_id: int | str, user_id: int | str) -> Grade:
    """One grade item of one user (`gradereport_user_get_grade_items`) as a unified `Grade`."""
    item_id = _obj_id(item, FN_GRADES, "grade item")
    return Grade(
        student_id=str(user_id),
        course_id=str(course_id),
        item_id=str(item_id),
        item_name=_text(item.get("itemname")),
        item_type=_text(item.get("itemtype")),
        score=_float(item.get("graderaw"), FN_GRADES, f"graderaw of item {item_id}"),
        max_score=_float(item.get("grademax"), FN_GRADES, f"grademax of item {item_id}"),
        display=_text(item.get("gradeformatted")),
        graded_at=epoch_to_datetime(item.get("gradedategraded")),
    )


def course_record(course: dict[str, Any]) -> Record:
    return Record(
        model="courses",
        vendor_id=str(_obj_id(course, FN_COURSES, "course")),
        data=map_course(course),
        raw=course,
        modified_at=epoch_to_datetime(course.get("timemodified")),
    )


def student_record(user: dict[str, Any]) -> Record:
    return Record(
        model="students",
        vendor_id=str(_obj_id(user, FN_USERS, "user")),
        data=map_user(user),
        raw=user,
    )


def enrolment_record(user: dict[str, Any], course_id: int) -> Record:
    data = map_enrolment(user, course_id)
    return Record(
        model="enrolments", vendor_id=f"{course_id}:{data.student_id}", data=data, raw=user
    )


def grade_record(item: dict[str, Any], course_id: int, user_id: int) -> Record:
    data = map_grade(item, course_id, user_id)
    return Record(
        model="grades",
        vendor_id=f"{course_id}:{user_id}:{data.item_id}",
        data=data,
        raw=item,
    )


def courses_of(body: Any) -> list[dict[str, Any]]:
    """The real courses of a `core_course_get_courses` answer (site course dropped), by id."""
    courses = _list(body, FN_COURSES, "the course list")
    for course in courses:
        _obj_id(course, FN_COURSES, "course")
    real = [c for c in courses if c.get("format") != "site"]
    return sorted(real, key=lambda c: int(c["id"]))


def users_of(body: Any) -> list[dict[str, Any]]:
    """The users of a `core_user_get_users` answer, by id."""
    if not isinstance(body, dict):
        raise _malformed(FN_USERS, f"answer is {type(body).__name__}, not an object with users")
    users = _list(body.get("users"), FN_USERS, "users")
    return sorted(users, key=lambda u: _obj_id(u, FN_USERS, "user"))


def grade_rows(body: Any) -> list[tuple[int, dict[str, Any]]]:
    """(user id, grade item) pairs of a `gradereport_user_get_grade_items` answer, by user, item."""
    if not isinstance(body, dict):
        raise _malformed(FN_GRADES, f"answer is {type(body).__name__}, not an object")
    rows: list[tuple[int, dict[str, Any]]] = []
    for usergrade in _list(body.get("usergrades"), FN_GRADES, "usergrades"):
        user_id = _obj_id(usergrade, FN_GRADES, "usergrade", key="userid")
        for item in _list(usergrade.get("gradeitems"), FN_GRADES, f"gradeitems of {user_id}"):
            _obj_id(item, FN_GRADES, f"grade item of user {user_id}")
            rows.append((user_id, item))
    rows.sort(key=lambda row: (row[0], int(row[1]["id"])))
    return rows


# --- resume positions --------------------------------------------------------------------------


def _int(cursor: Cursor, key: str) -> int:
    try:
        value = int(cursor.get(key) or 0)
    except (TypeError, ValueError):
        raise ConnectorConfigError(f"bad Moodle resume cursor {cursor!r}") from None
    if value < 0:
        raise ConnectorConfigError(f"bad Moodle resume cursor {cursor!r}")
    return value


def list_start(ids: Sequence[int], cursor: Cursor) -> int:
    """Where to resume in an id-sorted list: after `after_id` if given, else at `offset`."""
    if cursor.get("after_id") is not None:
        return bisect.bisect_right(ids, _int(cursor, "after_id"))
    return _int(cursor, "offset")


def list_cursor(ids: Sequence[int], next_offset: int | None) -> Cursor | None:
    if next_offset is None:
        return None
    return {"offset": next_offset, "after_id": ids[next_offset - 1]}


def course_start(course_ids: Sequence[int], cursor: Cursor, inner: str) -> tuple[int, int]:
    """(course index, position inside it) to resume at. With `course_id` in the cursor the
    course is found by id; if it has gone, the next course is read from its start."""
    index, position = _int(cursor, "course_index"), _int(cursor, inner)
    if cursor.get("course_id") is not None:
        course_id = _int(cursor, "course_id")
        index = bisect.bisect_left(course_ids, course_id)
        if index >= len(course_ids) or course_ids[index] != course_id:
            position = 0
    return index, position


def course_cursor(
    course_ids: Sequence[int], index: int, inner: str, position: int | None
) -> Cursor | None:
    """The cursor after a page: inside course `index` at `position`, or at the next course."""
    if position is None:
        index, position = index + 1, 0
    if index >= len(course_ids):
        return None
    return {"course_index": index, "course_id": course_ids[index], inner: position}


# --- the connector -----------------------------------------------------------------------------


class MoodleConnector(Connector):
    """Reads courses, users, enrolments and grades through Moodle's REST web services."""

    spec = SPEC

    def __init__(self, ctx: ConnectorContext) -> None:
        super().__init__(ctx)
        self.token = ctx.credentials.get("api_key") or ""
        self.http = VendorHttp(ctx.http, ctx.base_url, ctx.audit, secrets=[self.token])

    @property
    def page_size(self) -> int:
        return max(1, self.ctx.page_size or DEFAULT_PAGE_SIZE)

    async def call(self, function: str, params: Mapping[str, Any] | None = None) -> Any:
        """One web service call: POST the token and arguments, return the parsed JSON body.

        Raises the classified `VendorError` for HTTP failures, non-JSON bodies and Moodle's
        HTTP-200 exception bodies.
        """
        if not self.token:
            raise ConnectorConfigError("Moodle web service token (api_key) is missing")
        if not self.ctx.base_url:
            raise ConnectorConfigError("Moodle site URL is missing")
        form = {"wstoken": self.token, **flatten_params(params or {})}
        response = await self.http.send(
            "POST",
            WS_PATH,
            params={"wsfunction": function, "moodlewsrestformat": "json"},
            data=form,
        )
        self.http.raise_for_status(response)
        body = self.http.parse_json(response)
        error = moodle_error(body, function, self.http.clean)
        if error is not None:
            raise error
        return body

    async def test_connection(self) -> TestResult:
        try:
            info = await self.call(FN_SITE_INFO)
        except (VendorAuthError, VendorPermissionError, VendorValidationError) as exc:
            reason = exc.message.removeprefix(f"{FN_SITE_INFO}: ")
            code = f" ({exc.vendor_code})" if exc.vendor_code else ""
            return TestResult(
                success=False,
                message=f"Moodle rejected the token: {reason}{code}",
                details={"errorcode": exc.vendor_code, "kind": exc.kind},
            )
        except VendorNotFoundError as exc:
            return TestResult(
                success=False,
                message=f"No Moodle web service at {self.http.url(WS_PATH)}: check the site URL",
                details={"status": exc.status, "kind": exc.kind},
            )
        except ConnectorConfigError as exc:
            return TestResult(success=False, message=exc.message, details={"kind": exc.kind})

        if not isinstance(info, dict):
            raise _malformed(FN_SITE_INFO, f"answer is {type(info).__name__}, not an object")
        functions = _list(info.get("functions", []), FN_SITE_INFO, "functions")
        available = {f.get("name") for f in functions if isinstance(f, dict)}
        needed = sorted({fn for res in self.spec.resources for fn in RESOURCE_FUNCTIONS[res.name]})
        missing = [fn for fn in needed if fn not in available]
        details: dict[str, Any] = {
            "sitename": info.get("sitename"),
            "release": info.get("release"),
            "version": info.get("version"),
            "username": info.get("username"),
            "functions_available": len(available),
        }
        who = f"{info.get('sitename')} as {info.get('username')} (Moodle {info.get('release')})"
        if missing:
            details["missing_functions"] = missing
            return TestResult(
                success=False,
                message=(
                    f"Connected to {who}, but the token's service lacks required functions: "
                    + ", ".join(missing)
                ),
                details=details,
            )
        return TestResult(success=True, message=f"Connected to {who}", details=details)

    async def read(self, request: ReadRequest) -> AsyncIterator[Page]:
        # Both modes read everything: Moodle has no modified-since filter (see module docstring).
        cursor: Cursor = dict(request.cursor or {})
        if request.resource == "courses":
            pages = self._read_courses(cursor)
        elif request.resource == "students":
            pages = self._read_students(cursor)
        elif request.resource == "enrolments":
            pages = self._read_enrolments(cursor)
        elif request.resource == "grades":
            pages = self._read_grades(cursor)
        else:
            raise ConnectorConfigError(f"Moodle has no resource {request.resource!r}")
        async for page in pages:
            yield page

    # -- readers --

    async def _read_courses(self, cursor: Cursor) -> AsyncIterator[Page]:
        courses = courses_of(await self.call(FN_COURSES))
        async for page in self._list_pages(courses, cursor, course_record):
            yield page

    async def _read_students(self, cursor: Cursor) -> AsyncIterator[Page]:
        body = await self.call(FN_USERS, {"criteria": [{"key": "email", "value": "%"}]})
        async for page in self._list_pages(users_of(body), cursor, student_record):
            yield page

    async def _list_pages(
        self,
        items: list[dict[str, Any]],
        cursor: Cursor,
        to_record: Callable[[dict[str, Any]], Record],
    ) -> AsyncIterator[Page]:
        """Pages of a whole id-sorted list fetched with one call (counted on the first page)."""
        ids = [int(item["id"]) for item in items]
        calls = 1
        async for chunk, next_offset in chunked(items, self.page_size, list_start(ids, cursor)):
            records = [to_record(item) for item in chunk]
            yield Page(records, list_cursor(ids, next_offset), api_calls=calls)
            calls = 0

    async def _course_ids(self) -> list[int]:
        return [int(c["id"]) for c in courses_of(await self.call(FN_COURSES))]

    async def _read_enrolments(self, cursor: Cursor) -> AsyncIterator[Page]:
        course_ids = await self._course_ids()
        calls = 1  # the course list, counted on the first page yielded
        index, limitfrom = course_start(course_ids, cursor, "limitfrom")
        size = self.page_size
        while index < len(course_ids):
            course_id = course_ids[index]
            seen: set[int] = set()

            async def fetch(offset: int, limit: int, course_id: int = course_id) -> list[Any]:
                options = [
                    {"name": "limitfrom", "value": offset},
                    {"name": "limitnumber", "value": limit},
                ]
                body = await self.call(FN_ENROLLED, {"courseid": course_id, "options": options})
                users = _list(body, FN_ENROLLED, f"enrolled users of course {course_id}")
                if len(users) > limit:
                    raise _malformed(FN_ENROLLED, f"{len(users)} users for limitnumber {limit}")
                return users

            async for users, next_from in offset_pages(fetch, start=limitfrom, page_size=size):
                calls += 1
                records = []
                for user in users:
                    # Offset paging under concurrent enrolment changes can repeat a user.
                    user_id = _obj_id(user, FN_ENROLLED, "enrolled user")
                    if user_id not in seen:
                        seen.add(user_id)
                        records.append(enrolment_record(user, course_id))
                next_cursor = course_cursor(course_ids, index, "limitfrom", next_from)
                if records or next_cursor is None:
                    yield Page(records, next_cursor, api_calls=calls)
                    calls = 0
                if next_cursor is None:
                    return
            index, limitfrom = index + 1, 0
        yield Page([], None, api_calls=calls)  # no courses, or resumed past the last one

    async def _read_grades(self, cursor: Cursor) -> AsyncIterator[Page]:
        course_ids = await self._course_ids()
        calls = 1
        index, offset = course_start(course_ids, cursor, "offset")
        while index < len(course_ids):
            course_id = course_ids[index]
            rows = grade_rows(await self.call(FN_GRADES, {"courseid": course_id, "userid": 0}))
            calls += 1
            async for chunk, next_offset in chunked(rows, self.page_size, offset):
                records = [grade_record(item, course_id, user_id) for user_id, item in chunk]
                next_cursor = course_cursor(course_ids, index, "offset", next_offset)
                if records or next_cursor is None:
                    yield Page(records, next_cursor, api_calls=calls)
                    calls = 0
                if next_cursor is None:
                    return
            index, offset = index + 1, 0
        yield Page([], None, api_calls=calls)
