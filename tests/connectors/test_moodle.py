"""Tests of the Moodle connector: pure mapping and error classification, then loopback reads
against the sandbox's Moodle emulator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from connectors.base import ConnectorContext, Page, ReadRequest, VendorCall
from connectors.errors import (
    VendorAuthError,
    VendorMalformedResponse,
    VendorPermissionError,
    VendorRateLimited,
    VendorUnavailable,
    VendorValidationError,
)
from connectors.models import Course, Enrolment, Grade, Student
from connectors.moodle import (
    FN_COURSES,
    FN_ENROLLED,
    FN_GRADES,
    FN_USERS,
    SPEC,
    MoodleConnector,
    course_cursor,
    course_record,
    course_start,
    courses_of,
    flatten_params,
    grade_record,
    grade_rows,
    list_start,
    map_course,
    map_enrolment,
    map_grade,
    map_user,
    moodle_error,
    users_of,
)
from sandbox.moodle_data import MoodleDataset
from sandbox.server import SandboxServer

TOKEN = "sandbox-moodle-token"

# Shapes as in vendors.md section 6 (and Moodle's own services).
USER = {
    "id": 42,
    "username": "jsmith",
    "firstname": "Jane",
    "lastname": "Smith",
    "fullname": "Jane Smith",
    "email": "jane@example.edu.au",
    "idnumber": "S1234",
    "department": "Nursing",
    "institution": "TAFE",
    "city": "Perth",
    "country": "AU",
    "firstaccess": 1700000000,
    "lastaccess": 1710000000,
    "auth": "manual",
    "suspended": False,
}
COURSE = {
    "id": 7,
    "shortname": "NUR101",
    "fullname": "Nursing foundations",
    "idnumber": "NUR-101-2024",
    "categoryid": 3,
    "format": "topics",
    "startdate": 1704067200,
    "enddate": 0,
    "visible": 1,
    "timecreated": 1700000000,
    "timemodified": 1705000000,
}
SITE_COURSE = {
    "id": 1,
    "shortname": "site",
    "fullname": "Sandbox site",
    "categoryid": 0,
    "format": "site",
    "startdate": 0,
    "enddate": 0,
    "visible": 1,
    "timemodified": 1690000000,
}
ENROLLED = {
    **{k: USER[k] for k in ("id", "username", "firstname", "lastname", "fullname", "email")},
    "lastcourseaccess": 1711000000,
    "roles": [
        {"roleid": 5, "name": "", "shortname": "student", "sortorder": 0},
        {"roleid": 9, "name": "Mentor", "shortname": "mentor", "sortorder": 1},
    ],
    "groups": [],
    "enrolledcourses": [{"id": 7, "fullname": "Nursing foundations", "shortname": "NUR101"}],
}
GRADE_ITEM = {
    "id": 301,
    "itemname": "Assignment 1",
    "itemtype": "mod",
    "itemmodule": "assign",
    "graderaw": 17.5,
    "gradeformatted": "17.50",
    "grademax": 20,
    "percentageformatted": "87.50 %",
    "gradedategraded": 1712000000,
}
COURSE_TOTAL = {
    "id": 300,
    "itemname": None,
    "itemtype": "course",
    "graderaw": None,
    "gradeformatted": "-",
    "grademax": 100.0,
    "gradedategraded": None,
}
GRADES_BODY = {
    "usergrades": [
        {"courseid": 7, "userid": 43, "gradeitems": [GRADE_ITEM, COURSE_TOTAL]},
        {"courseid": 7, "userid": 42, "gradeitems": [GRADE_ITEM, COURSE_TOTAL]},
    ],
    "warnings": [],
}


def ts(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


# --- mapping ---------------------------------------------------------------------------------


def test_spec_declares_the_four_resources() -> None:
    assert SPEC.type_id == "moodle" and SPEC.auth_kind == "ws_token"
    assert [r.name for r in SPEC.resources] == ["courses", "students", "enrolments", "grades"]
    assert {r.model for r in SPEC.resources} == {"courses", "students", "enrolments", "grades"}
    assert SPEC.credential_fields[0].name == "api_key" and SPEC.credential_fields[0].secret


def test_map_user() -> None:
    student = map_user(USER)
    assert student == Student(
        first_name="Jane",
        last_name="Smith",
        full_name="Jane Smith",
        email="jane@example.edu.au",
        username="jsmith",
        student_number="S1234",
        department="Nursing",
        institution="TAFE",
        city="Perth",
        country="AU",
        last_access_at=ts(1710000000),
    )


def test_map_user_blank_fields_and_never_accessed() -> None:
    user = {"id": 5, "firstname": "A", "lastname": "B", "idnumber": "", "lastaccess": 0}
    student = map_user(user)
    assert student.full_name == "A B"
    assert student.student_number is None and student.last_access_at is None


def test_map_course_and_record() -> None:
    course = map_course(COURSE)
    assert course == Course(
        code="NUR101",
        name="Nursing foundations",
        external_id="NUR-101-2024",
        category_id="3",
        starts_at=ts(1704067200),
        ends_at=None,
        visible=True,
        kind="course",
    )
    record = course_record(COURSE)
    assert record.vendor_id == "7" and record.model == "courses"
    assert record.raw is COURSE and record.modified_at == ts(1705000000)


def test_site_course_is_skipped_and_courses_sorted() -> None:
    later = {**COURSE, "id": 9}
    assert [c["id"] for c in courses_of([later, SITE_COURSE, COURSE])] == [7, 9]


def test_map_enrolment() -> None:
    assert map_enrolment(ENROLLED, 7) == Enrolment(
        student_id="42",
        course_id="7",
        roles=["student", "mentor"],
        status="active",
        last_access_at=ts(1711000000),
    )


def test_map_grade_and_course_total() -> None:
    assert map_grade(GRADE_ITEM, 7, 42) == Grade(
        student_id="42",
        course_id="7",
        item_id="301",
        item_name="Assignment 1",
        item_type="mod",
        score=17.5,
        max_score=20.0,
        display="17.50",
        graded_at=ts(1712000000),
    )
    total = map_grade(COURSE_TOTAL, 7, 42)
    assert total.item_type == "course" and total.score is None and total.max_score == 100.0
    record = grade_record(GRADE_ITEM, 7, 42)
    assert record.vendor_id == "7:42:301" and record.raw is GRADE_ITEM
    assert record.modified_at is None


def test_grade_rows_flatten_and_sort() -> None:
    rows = grade_rows(GRADES_BODY)
    assert [(u, i["id"]) for u, i in rows] == [(42, 300), (42, 301), (43, 300), (43, 301)]


@pytest.mark.parametrize(
    ("func", "body", "fragment"),
    [
        (courses_of, {"courses": []}, "not a list"),
        (courses_of, [{"shortname": "x"}], "course without id"),
        (users_of, [], "not an object"),
        (users_of, {"users": [{"username": "x"}]}, "user without id"),
        (users_of, {"users": [{"id": "abc"}]}, "non-integer id"),
        (grade_rows, {"usergrades": {}}, "usergrades is dict"),
        (grade_rows, {"usergrades": [{"gradeitems": []}]}, "usergrade without userid"),
        (grade_rows, {"usergrades": [{"userid": 1, "gradeitems": [{}]}]}, "without id"),
    ],
)
def test_wrong_shapes_are_malformed(func: Any, body: Any, fragment: str) -> None:
    with pytest.raises(VendorMalformedResponse) as info:
        func(body)
    assert fragment in info.value.message


def test_non_numeric_values_are_malformed() -> None:
    with pytest.raises(VendorMalformedResponse, match=FN_GRADES):
        map_grade({**GRADE_ITEM, "graderaw": "lots"}, 7, 42)
    with pytest.raises(VendorMalformedResponse, match=FN_COURSES):
        map_course({**COURSE, "visible": "yes"})
    assert map_course({**COURSE, "visible": False}).visible is False


# --- request encoding and error classification -------------------------------------------------


def test_flatten_params_bracket_notation() -> None:
    flat = flatten_params(
        {
            "courseid": 7,
            "criteria": [{"key": "email", "value": "%"}],
            "options": [{"name": "limitfrom", "value": 0}, {"name": "onlyactive", "value": True}],
            "skip": None,
        }
    )
    assert flat == {
        "courseid": "7",
        "criteria[0][key]": "email",
        "criteria[0][value]": "%",
        "options[0][name]": "limitfrom",
        "options[0][value]": "0",
        "options[1][name]": "onlyactive",
        "options[1][value]": "1",
    }


def _exc(code: str, message: str, exception: str = "moodle_exception", **extra: Any) -> Any:
    return {"exception": exception, "errorcode": code, "message": message, **extra}


@pytest.mark.parametrize(
    ("body", "cls"),
    [
        (_exc("invalidtoken", "Invalid token - token not found"), VendorAuthError),
        (_exc("invalidtimedtoken", "Invalid token - token expired"), VendorAuthError),
        (
            _exc(
                "accessexception",
                "Invalid token - token expired - check validuntil time for the token",
                "webservice_access_exception",
            ),
            VendorAuthError,
        ),
        (
            _exc("accessexception", "Access control exception", "webservice_access_exception"),
            VendorPermissionError,
        ),
        (
            _exc("nopermissions", "Sorry, but you do not currently have permissions"),
            VendorPermissionError,
        ),
        (_exc("requireloginerror", "Course or activity not accessible."), VendorPermissionError),
        (
            _exc(
                "invalidparameter",
                "Invalid parameter value detected",
                "invalid_parameter_exception",
                debuginfo="courseid => Invalid parameter value detected",
            ),
            VendorValidationError,
        ),
        (_exc("sitemaintenance", "Site is in maintenance mode"), VendorUnavailable),
        (
            _exc("dbconnectionfailed", "Database connection failed", "dml_connection_exception"),
            VendorUnavailable,
        ),
        (_exc("somethingelse", "Something odd"), VendorValidationError),
    ],
)
def test_moodle_error_classification(body: dict[str, Any], cls: type) -> None:
    error = moodle_error(body, FN_USERS)
    assert type(error) is cls
    assert error is not None and error.vendor_code == body["errorcode"]
    assert error.message.startswith(f"{FN_USERS}: {body['message']}")


def test_unknown_function_is_validation_naming_it() -> None:
    body = _exc(
        "invalidrecord",
        "Can't find data record in database table external_functions.",
        "dml_missing_record_exception",
    )
    error = moodle_error(body, "core_nope_nothing")
    assert isinstance(error, VendorValidationError)
    assert "core_nope_nothing" in error.message and "no such web service function" in error.message


def test_non_error_bodies_are_not_errors() -> None:
    assert moodle_error([], FN_COURSES) is None
    assert moodle_error({"users": [], "warnings": []}, FN_USERS) is None


def test_token_is_masked_in_vendor_text() -> None:
    body = _exc("invalidparameter", f"bad value {TOKEN}", debuginfo=f"wstoken={TOKEN}")
    error = moodle_error(body, FN_USERS, lambda text: text.replace(TOKEN, "***"))
    assert error is not None and TOKEN not in str(error)


# --- cursors -------------------------------------------------------------------------------------


def test_list_start_offset_and_after_id() -> None:
    ids = [2, 3, 5, 8, 13]
    assert list_start(ids, {}) == 0
    assert list_start(ids, {"offset": 3}) == 3
    assert list_start(ids, {"offset": 3, "after_id": 5}) == 3
    # user 5 deleted after the cursor was committed: still resume right after it
    assert list_start([2, 3, 8, 13], {"offset": 3, "after_id": 5}) == 2


def test_course_cursor_and_start() -> None:
    ids = [4, 7, 9]
    assert course_cursor(ids, 0, "limitfrom", 500) == {
        "course_index": 0,
        "course_id": 4,
        "limitfrom": 500,
    }
    assert course_cursor(ids, 0, "limitfrom", None) == {
        "course_index": 1,
        "course_id": 7,
        "limitfrom": 0,
    }
    assert course_cursor(ids, 2, "limitfrom", None) is None
    assert course_start(ids, {"course_index": 1, "limitfrom": 20}, "limitfrom") == (1, 20)
    assert course_start(ids, {"course_index": 1, "course_id": 7, "limitfrom": 20}, "limitfrom") == (
        1,
        20,
    )
    # course 7 deleted meanwhile: continue with course 9 from its start
    assert course_start(
        [4, 9], {"course_index": 1, "course_id": 7, "limitfrom": 20}, "limitfrom"
    ) == (
        1,
        0,
    )


# --- the connector over a stub transport (no sandbox needed) -------------------------------------


def _stub_ctx(
    handler: Any, calls: list[VendorCall], page_size: int | None = None
) -> ConnectorContext:
    async def audit(call: VendorCall) -> None:
        calls.append(call)

    return ConnectorContext(
        integration_id="t1",
        base_url="https://moodle.example.edu.au",
        config={},
        credentials={"api_key": TOKEN},
        http=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        audit=audit,
        page_size=page_size,
    )


async def test_call_posts_token_in_body_and_function_in_query() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"users": [USER], "warnings": []})

    calls: list[VendorCall] = []
    ctx = _stub_ctx(handler, calls)
    pages = [p async for p in MoodleConnector(ctx).read(ReadRequest(resource="students"))]
    await ctx.http.aclose()
    assert len(pages) == 1 and pages[0].cursor is None and pages[0].api_calls == 1
    request = seen[0]
    assert request.method == "POST"
    assert request.url.path == "/webservice/rest/server.php"
    assert request.url.params["wsfunction"] == FN_USERS
    assert TOKEN not in str(request.url)
    form = dict(httpx.QueryParams(request.content.decode()))
    assert form["wstoken"] == TOKEN
    assert form["criteria[0][key]"] == "email" and form["criteria[0][value]"] == "%"
    assert len(calls) == 1 and TOKEN not in calls[0].url


async def test_exception_body_with_http_200_raises_classified() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=_exc("invalidtoken", "Invalid token - token not found"))

    ctx = _stub_ctx(handler, [])
    with pytest.raises(VendorAuthError) as info:
        [p async for p in MoodleConnector(ctx).read(ReadRequest(resource="courses"))]
    await ctx.http.aclose()
    assert info.value.vendor_code == "invalidtoken"


async def test_enrolments_refuse_a_site_that_ignores_limitnumber() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["wsfunction"] == FN_COURSES:
            return httpx.Response(200, json=[COURSE])
        users = [{**ENROLLED, "id": i} for i in range(1, 6)]
        return httpx.Response(200, json=users)

    ctx = _stub_ctx(handler, [], page_size=2)
    with pytest.raises(VendorMalformedResponse, match=FN_ENROLLED):
        [p async for p in MoodleConnector(ctx).read(ReadRequest(resource="enrolments"))]
    await ctx.http.aclose()


async def test_grades_pages_within_a_course_and_resume() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["wsfunction"] == FN_COURSES:
            return httpx.Response(200, json=[SITE_COURSE, COURSE, {**COURSE, "id": 9}])
        form = dict(httpx.QueryParams(request.content.decode()))
        assert form["userid"] == "0"
        body = json.loads(json.dumps(GRADES_BODY))
        for ug in body["usergrades"]:
            ug["courseid"] = int(form["courseid"])
        return httpx.Response(200, json=body)

    ctx = _stub_ctx(handler, [], page_size=3)
    connector = MoodleConnector(ctx)
    pages = [p async for p in connector.read(ReadRequest(resource="grades"))]
    ids = [r.vendor_id for p in pages for r in p.records]
    assert len(ids) == 8 == len(set(ids))
    assert all(len(p.records) <= 3 for p in pages)
    assert pages[-1].cursor is None and sum(p.api_calls for p in pages) == 3
    # resume after the first page
    rest = [p async for p in connector.read(ReadRequest(resource="grades", cursor=pages[0].cursor))]
    assert [r.vendor_id for p in rest for r in p.records] == ids[3:]
    await ctx.http.aclose()


# --- loopback against the sandbox's Moodle emulator ----------------------------------------------

SEED, SIZE = 7, 1200  # 1,200 users, 6 courses, ~2,400 enrolments, ~7,200 grades


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(port=0) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh_site(request: pytest.FixtureRequest) -> None:
    if "sandbox" not in request.fixturenames:
        return
    server: SandboxServer = request.getfixturevalue("sandbox")
    server.state.reset()
    server.state.moodle.configure(seed=SEED, size=SIZE)


@pytest.fixture(scope="module")
def dataset() -> MoodleDataset:
    return MoodleDataset(SEED, SIZE)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


class Audit:
    def __init__(self) -> None:
        self.calls: list[VendorCall] = []

    async def __call__(self, call: VendorCall) -> None:
        self.calls.append(call)


def connector(
    base_url: str,
    client: httpx.AsyncClient,
    *,
    token: str = TOKEN,
    page_size: int | None = None,
    audit: Audit | None = None,
) -> MoodleConnector:
    ctx = ConnectorContext(
        integration_id="t1",
        base_url=base_url,
        config={},
        credentials={"api_key": token},
        http=client,
        audit=audit or Audit(),
        page_size=page_size,
    )
    return MoodleConnector(ctx)


async def read_all(conn: MoodleConnector, resource: str, **kwargs: Any) -> list[Page]:
    return [page async for page in conn.read(ReadRequest(resource=resource, **kwargs))]


def without_urls(raw: dict[str, Any]) -> dict[str, Any]:
    """A raw user without its profile image URLs (they embed the site's address)."""
    return {k: v for k, v in raw.items() if not k.startswith("profileimageurl")}


def ids_of(pages: list[Page]) -> list[str]:
    return [record.vendor_id for page in pages for record in page.records]


async def test_connection_ok(sandbox: SandboxServer, client: httpx.AsyncClient) -> None:
    result = await connector(sandbox.moodle_url, client).test_connection()
    assert result.success, result.message
    assert result.message.startswith("Connected to Sandbox Moodle as admin (Moodle 4.")
    assert result.details["functions_available"] == 5
    assert result.details["sitename"] == "Sandbox Moodle"


async def test_connection_wrong_token(sandbox: SandboxServer, client: httpx.AsyncClient) -> None:
    result = await connector(sandbox.moodle_url, client, token="not-a-token").test_connection()
    assert not result.success
    assert result.message == (
        "Moodle rejected the token: Invalid token - token not found (invalidtoken)"
    )


async def test_connection_token_without_access(
    sandbox: SandboxServer, client: httpx.AsyncClient
) -> None:
    sandbox.state.moodle.tokens["no-access-token"] = set()
    result = await connector(sandbox.moodle_url, client, token="no-access-token").test_connection()
    assert not result.success
    assert "Access control exception" in result.message and "accessexception" in result.message


async def test_connection_names_missing_functions(
    sandbox: SandboxServer, client: httpx.AsyncClient
) -> None:
    sandbox.state.moodle.tokens["partial-token"] = {
        "core_webservice_get_site_info",
        "core_course_get_courses",
    }
    result = await connector(sandbox.moodle_url, client, token="partial-token").test_connection()
    assert not result.success
    assert result.details["missing_functions"] == [FN_ENROLLED, FN_USERS, FN_GRADES]
    for name in (FN_ENROLLED, FN_USERS, FN_GRADES):
        assert name in result.message


async def test_connection_wrong_site_url(sandbox: SandboxServer, client: httpx.AsyncClient) -> None:
    result = await connector(f"{sandbox.url}/moodle/nothing-here", client).test_connection()
    assert not result.success and "check the site URL" in result.message


async def test_read_with_a_function_the_token_lacks(
    sandbox: SandboxServer, client: httpx.AsyncClient
) -> None:
    sandbox.state.moodle.tokens["courses-only"] = {FN_COURSES}
    conn = connector(sandbox.moodle_url, client, token="courses-only")
    assert len(ids_of(await read_all(conn, "courses"))) == 6
    with pytest.raises(VendorPermissionError) as info:
        await read_all(conn, "students")
    assert info.value.vendor_code == "accessexception"
    assert TOKEN not in str(info.value)


async def test_courses_equal_dataset(
    sandbox: SandboxServer, client: httpx.AsyncClient, dataset: MoodleDataset
) -> None:
    pages = await read_all(connector(sandbox.moodle_url, client), "courses")
    expected = [c for c in dataset.courses() if c["format"] != "site"]
    assert len(pages) == 1 and pages[0].cursor is None and pages[0].api_calls == 1
    records = pages[0].records
    assert [r.vendor_id for r in records] == [str(c["id"]) for c in expected]
    for record, course in zip(records, expected, strict=True):
        assert record.raw == course
        assert isinstance(record.data, Course)
        assert record.data.code == course["shortname"] and record.data.name == course["fullname"]
        assert record.data.external_id == course["idnumber"]
        assert record.data.visible == bool(course["visible"])
        assert record.modified_at == ts(course["timemodified"])


async def test_students_equal_dataset(
    sandbox: SandboxServer, client: httpx.AsyncClient, dataset: MoodleDataset
) -> None:
    pages = await read_all(connector(sandbox.moodle_url, client), "students")
    expected = dataset.users()
    ids = ids_of(pages)
    assert ids == [str(u["id"]) for u in expected] and len(set(ids)) == SIZE
    assert [len(p.records) for p in pages] == [500, 500, 200]
    assert [p.api_calls for p in pages] == [1, 0, 0] and pages[-1].cursor is None
    by_id = {str(u["id"]): u for u in expected}
    for record in (r for p in pages for r in p.records):
        user = by_id[record.vendor_id]
        assert without_urls(record.raw) == without_urls(user)
        assert isinstance(record.data, Student)
        assert record.data.email == user["email"] and record.data.username == user["username"]
        assert record.data.student_number == user.get("idnumber")
        assert record.data.last_access_at == ts(user["lastaccess"])


async def test_enrolments_equal_dataset(
    sandbox: SandboxServer, client: httpx.AsyncClient, dataset: MoodleDataset
) -> None:
    pages = await read_all(connector(sandbox.moodle_url, client), "enrolments")
    expected = {
        f"{cid}:{u['id']}": u for cid in dataset.course_ids() for u in dataset.enrolled_users(cid)
    }
    ids = ids_of(pages)
    assert len(ids) == len(set(ids)) == len(expected) and set(ids) == set(expected)
    for record in (r for p in pages for r in p.records):
        assert without_urls(record.raw) == without_urls(expected[record.vendor_id])
        assert isinstance(record.data, Enrolment)
        assert record.data.roles == ["student"] and record.data.status == "active"
        assert f"{record.data.course_id}:{record.data.student_id}" == record.vendor_id
    # the course list once, plus one call per course (each course has < 500 users)
    assert sum(p.api_calls for p in pages) == 1 + len(dataset.course_ids())


async def test_grades_equal_dataset(
    sandbox: SandboxServer, client: httpx.AsyncClient, dataset: MoodleDataset
) -> None:
    pages = await read_all(connector(sandbox.moodle_url, client), "grades")
    expected = {
        f"{cid}:{ug['userid']}:{item['id']}": item
        for cid in dataset.course_ids()
        for ug in dataset.grade_items(cid)
        for item in ug["gradeitems"]
    }
    ids = ids_of(pages)
    assert len(ids) == len(set(ids)) == len(expected) and set(ids) == set(expected)
    assert all(len(p.records) <= 500 for p in pages)
    totals = 0
    for record in (r for p in pages for r in p.records):
        item = expected[record.vendor_id]
        assert record.raw == item and isinstance(record.data, Grade)
        assert record.data.score == item["graderaw"] and record.data.max_score == item["grademax"]
        assert record.data.display == item["gradeformatted"]
        totals += record.data.item_type == "course"
    assert totals == len(expected) // 3
    assert sum(p.api_calls for p in pages) == 1 + len(dataset.course_ids())


async def test_incremental_mode_reads_everything(
    sandbox: SandboxServer, client: httpx.AsyncClient
) -> None:
    conn = connector(sandbox.moodle_url, client)
    full = await read_all(conn, "students")
    incremental = await read_all(conn, "students", mode="incremental", checkpoint={"x": 1})
    assert ids_of(incremental) == ids_of(full)
    assert all(p.checkpoint is None for p in incremental)


@pytest.mark.parametrize("resource", ["courses", "students", "enrolments", "grades"])
async def test_page_sizes_respected(
    sandbox: SandboxServer, client: httpx.AsyncClient, dataset: MoodleDataset, resource: str
) -> None:
    audit = Audit()
    conn = connector(sandbox.moodle_url, client, page_size=150, audit=audit)
    pages = await read_all(conn, resource)
    assert all(0 < len(p.records) <= 150 for p in pages)
    assert all(p.cursor is not None for p in pages[:-1]) and pages[-1].cursor is None
    assert sum(p.api_calls for p in pages) == len(audit.calls)
    if resource == "enrolments":
        # limitnumber=150: one call per 150 users of a course, plus the short (or empty) last one
        sizes = [len(dataset.enrolled_user_ids(cid)) for cid in dataset.course_ids()]
        assert len(audit.calls) == 1 + sum(n // 150 + 1 for n in sizes)
        assert max(len(p.records) for p in pages) == 150


@pytest.mark.parametrize("resource", ["courses", "students", "enrolments", "grades"])
async def test_resume_from_mid_stream_cursors_yields_exactly_the_remainder(
    sandbox: SandboxServer, client: httpx.AsyncClient, resource: str
) -> None:
    conn = connector(sandbox.moodle_url, client, page_size=150 if resource != "courses" else 4)
    pages = await read_all(conn, resource)
    everything = ids_of(pages)
    assert len(pages) > 1 and len(everything) == len(set(everything))
    last = len(pages) - 2
    chosen = {0, last // 3, last // 2, 2 * last // 3, last}  # a sample keeps the test quick
    done = 0
    for k, page in enumerate(pages[:-1]):
        done += len(page.records)
        if k not in chosen:
            continue
        rest = await read_all(conn, resource, cursor=page.cursor)
        assert ids_of(rest) == everything[done:], f"resume after page {k}: {page.cursor}"
        assert rest[-1].cursor is None


async def test_resume_inside_a_course(sandbox: SandboxServer, client: httpx.AsyncClient) -> None:
    conn = connector(sandbox.moodle_url, client, page_size=100)
    pages = await read_all(conn, "enrolments")
    inside = next(i for i, p in enumerate(pages) if p.cursor and p.cursor["limitfrom"] > 0)
    cursor = pages[inside].cursor
    assert cursor is not None and cursor["limitfrom"] % 100 == 0
    rest = await read_all(conn, "enrolments", cursor=cursor)
    done = sum(len(p.records) for p in pages[: inside + 1])
    assert ids_of(rest) == ids_of(pages)[done:]
    assert rest[0].records[0].vendor_id.startswith(f"{cursor['course_id']}:")


async def test_resume_after_users_were_deleted(
    sandbox: SandboxServer, client: httpx.AsyncClient
) -> None:
    conn = connector(sandbox.moodle_url, client, page_size=100)
    first = await anext(aiter(conn.read(ReadRequest(resource="students"))))
    seen = ids_of([first])
    # users inside the committed page vanish before the resume: nothing after it is skipped
    sandbox.state.moodle.delete_users([int(seen[10]), int(seen[50])])
    rest = await read_all(conn, "students", cursor=first.cursor)
    assert ids_of(rest)[0] == str(int(seen[-1]) + 1)
    assert len(ids_of(rest)) == SIZE - 100


async def test_html_500_is_unavailable(sandbox: SandboxServer, client: httpx.AsyncClient) -> None:
    sandbox.state.moodle.set_faults(error_rate=1.0)
    conn = connector(sandbox.moodle_url, client)
    with pytest.raises(VendorUnavailable) as info:
        await read_all(conn, "courses")
    assert info.value.status == 500
    with pytest.raises(VendorUnavailable):  # transient: raised, not a failed test result
        await conn.test_connection()


async def test_429_is_rate_limited(sandbox: SandboxServer, client: httpx.AsyncClient) -> None:
    sandbox.state.moodle.set_faults(rate_429=1.0, retry_after_s=7)
    with pytest.raises(VendorRateLimited) as info:
        await read_all(connector(sandbox.moodle_url, client), "students")
    assert info.value.retry_after == 7


async def test_dropped_connection_is_unavailable(
    sandbox: SandboxServer, client: httpx.AsyncClient
) -> None:
    sandbox.state.moodle.set_faults(drop_rate=1.0)
    audit = Audit()
    with pytest.raises(VendorUnavailable, match="connection failed"):
        await read_all(connector(sandbox.moodle_url, client, audit=audit), "grades")
    assert audit.calls[-1].status is None and audit.calls[-1].error


async def test_fault_mid_stream_then_resume(
    sandbox: SandboxServer, client: httpx.AsyncClient
) -> None:
    conn = connector(sandbox.moodle_url, client, page_size=100)
    expected = ids_of(await read_all(conn, "enrolments"))
    got: list[str] = []
    cursor: dict[str, Any] | None = None
    stream = conn.read(ReadRequest(resource="enrolments"))
    for _ in range(4):
        page = await anext(stream)
        got += [r.vendor_id for r in page.records]
        cursor = page.cursor
    sandbox.state.moodle.set_faults(error_rate=1.0)
    with pytest.raises(VendorUnavailable):
        await anext(stream)
    sandbox.state.moodle.set_faults(error_rate=0.0)
    got += ids_of(await read_all(conn, "enrolments", cursor=cursor))
    assert got == expected


async def test_audit_receives_every_call_redacted(
    sandbox: SandboxServer, client: httpx.AsyncClient
) -> None:
    audit = Audit()
    conn = connector(sandbox.moodle_url, client, audit=audit, page_size=200)
    await conn.test_connection()
    total = 1
    for resource in ("courses", "students", "enrolments", "grades"):
        total += sum(p.api_calls for p in await read_all(conn, resource))
    assert len(audit.calls) == total == sandbox.state.moodle.counters.requests
    for call in audit.calls:
        assert TOKEN not in call.url and call.status == 200 and call.method == "POST"
        assert "wsfunction=" in call.url
    functions = {httpx.URL(c.url).params["wsfunction"] for c in audit.calls}
    assert functions == {
        "core_webservice_get_site_info",
        FN_COURSES,
        FN_USERS,
        FN_ENROLLED,
        FN_GRADES,
    }


# --- a broken PHP host (not a sandbox fault: a 200 with a body that is not Moodle JSON) ----------


class BrokenHost:
    """A loopback HTTP server that answers every request with one fixed response."""

    def __init__(self, status: int, content_type: str, body: bytes) -> None:
        self.response = (
            f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode() + body
        self.url = ""
        self.server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.decode("latin-1").split("\r\n"):
            if line.lower().startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        if length:
            await reader.readexactly(length)
        writer.write(self.response)
        await writer.drain()
        writer.close()

    async def __aenter__(self) -> BrokenHost:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/moodle"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


@pytest.mark.parametrize(
    "body",
    [
        b"<br />\n<b>Fatal error</b>: Allowed memory size exhausted in <b>lib/dml.php</b>",
        b'{"users": [{"id": 3, "username": "trunc',
    ],
)
async def test_garbage_body_is_malformed(client: httpx.AsyncClient, body: bytes) -> None:
    async with BrokenHost(200, "text/html; charset=utf-8", body) as host:
        conn = connector(host.url, client)
        with pytest.raises(VendorMalformedResponse) as info:
            await read_all(conn, "students")
        assert "expected JSON" in info.value.message and TOKEN not in str(info.value)
        with pytest.raises(VendorMalformedResponse):
            await conn.test_connection()


async def test_wrong_shape_from_the_host_is_malformed(client: httpx.AsyncClient) -> None:
    async with BrokenHost(200, "application/json", b'{"courses": []}') as host:
        with pytest.raises(VendorMalformedResponse, match=FN_COURSES):
            await read_all(connector(host.url, client), "enrolments")
