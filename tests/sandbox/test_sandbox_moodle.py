"""The Moodle emulator over HTTP: functions, paging, and each of Moodle's failure answers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox.server import SandboxServer
from tests.sandbox.support import MOODLE_TOKEN, options, ws, ws_json

ALL = {"criteria[0][key]": "email", "criteria[0][value]": "%"}


async def test_site_info(sandbox: SandboxServer, http: httpx.AsyncClient) -> None:
    info = await ws_json(http, "core_webservice_get_site_info")
    for key in ("sitename", "username", "firstname", "lastname", "fullname", "userid", "release"):
        assert info[key]
    assert info["siteurl"] == f"{sandbox.url}/moodle"
    assert info["version"].isdigit()
    names = {f["name"] for f in info["functions"]}
    assert {"core_enrol_get_enrolled_users", "gradereport_user_get_grade_items"} <= names
    assert all(set(f) == {"name", "version"} for f in info["functions"])


async def test_courses_include_the_site_course(
    sandbox: SandboxServer, http: httpx.AsyncClient
) -> None:
    courses = await ws_json(http, "core_course_get_courses")
    assert courses[0]["id"] == 1 and courses[0]["format"] == "site"
    ids = [c["id"] for c in courses[1:]]
    assert ids == list(range(2, 2 + max(3, 200 // 200)))
    for course in courses:
        for key in ("id", "shortname", "fullname", "idnumber", "categoryid", "startdate"):
            assert key in course
        assert {"enddate", "visible", "timecreated", "timemodified"} <= set(course)
    some = await ws_json(
        http, "core_course_get_courses", {"options[ids][0]": "3", "options[ids][1]": "999"}
    )
    assert [c["id"] for c in some] == [3]


async def test_users_criteria(sandbox: SandboxServer, http: httpx.AsyncClient) -> None:
    body = await ws_json(http, "core_user_get_users", ALL)
    assert body["warnings"] == []
    users = body["users"]
    assert len(users) == 200 and [u["id"] for u in users] == list(range(3, 203))
    assert users == sandbox.state.moodle.dataset.users()
    last = users[-1]
    for key, value in (("id", last["id"]), ("username", last["username"])):
        found = await ws_json(
            http, "core_user_get_users", {"criteria[0][key]": key, "criteria[0][value]": value}
        )
        assert found["users"] == [last]
    with_idnumber = next(u for u in users if "idnumber" in u)
    found = await ws_json(
        http,
        "core_user_get_users",
        {"criteria[0][key]": "idnumber", "criteria[0][value]": with_idnumber["idnumber"]},
    )
    assert found["users"] == [with_idnumber]
    first = users[0]["firstname"]
    found = await ws_json(
        http,
        "core_user_get_users",
        {
            "criteria[0][key]": "firstname",
            "criteria[0][value]": first.upper()[:3] + "%",
            "criteria[1][key]": "lastname",
            "criteria[1][value]": "%",
        },
    )
    assert found["users"] and all(u["firstname"].startswith(first[:3]) for u in found["users"])
    assert users[0] in found["users"]
    odd = await ws_json(
        http, "core_user_get_users", {"criteria[0][key]": "shoesize", "criteria[0][value]": "9"}
    )
    assert odd["users"] == []
    assert odd["warnings"][0]["warningcode"] == "invalidfieldparameter"
    twice = await ws_json(
        http,
        "core_user_get_users",
        {
            "criteria[0][key]": "email",
            "criteria[0][value]": "%",
            "criteria[1][key]": "email",
            "criteria[1][value]": "%",
        },
    )
    assert twice["errorcode"] == "keyalreadyset"


@pytest.mark.parametrize("page_size", [1, 7, 50])
async def test_enrolled_users_paging_covers_each_course_exactly(
    sandbox: SandboxServer, http: httpx.AsyncClient, page_size: int
) -> None:
    ds = sandbox.state.moodle.dataset
    seen_total = 0
    for cid in ds.course_ids():
        full = await ws_json(http, "core_enrol_get_enrolled_users", {"courseid": cid})
        assert full == ds.enrolled_users(cid)
        paged: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = await ws_json(
                http,
                "core_enrol_get_enrolled_users",
                {"courseid": cid, **options(limitfrom=offset, limitnumber=page_size)},
                post=offset % 2 == 1,  # POST form bodies work the same
            )
            paged += page
            offset += page_size
            if len(page) < page_size:
                break
        ids = [u["id"] for u in paged]
        assert ids == sorted(set(ids)) == [u["id"] for u in full]
        seen_total += len(ids)
        assert all(u["roles"][0]["shortname"] == "student" for u in full)
        assert all(any(c["id"] == cid for c in u["enrolledcourses"]) for u in full)
    assert 200 <= seen_total <= 600  # every user in 1..3 courses


async def test_enrolled_users_options(sandbox: SandboxServer, http: httpx.AsyncClient) -> None:
    everyone = await ws_json(http, "core_enrol_get_enrolled_users", {"courseid": 2})
    active = await ws_json(
        http, "core_enrol_get_enrolled_users", {"courseid": 2, **options(onlyactive=1)}
    )
    assert 0 < len(active) <= len(everyone)
    slim = await ws_json(
        http,
        "core_enrol_get_enrolled_users",
        {"courseid": 2, **options(userfields="email,city", limitnumber=3)},
    )
    assert len(slim) == 3 and all(set(u) == {"id", "email", "city"} for u in slim)
    by_name = await ws_json(
        http,
        "core_enrol_get_enrolled_users",
        {"courseid": 2, **options(sortby="lastname", sortdirection="DESC")},
    )
    names = [(u["lastname"], u["firstname"]) for u in by_name]
    assert names == sorted(names, reverse=True)
    bad = await ws_json(
        http, "core_enrol_get_enrolled_users", {"courseid": 2, **options(sortby="shoesize")}
    )
    assert bad["errorcode"] == "invalidparameter"


async def test_grade_items(sandbox: SandboxServer, http: httpx.AsyncClient) -> None:
    ds = sandbox.state.moodle.dataset
    body = await ws_json(http, "gradereport_user_get_grade_items", {"courseid": 2, "userid": 0})
    assert body["warnings"] == []
    assert [g["userid"] for g in body["usergrades"]] == ds.enrolled_user_ids(2)
    assert body["usergrades"] == ds.grade_items(2)
    entry = body["usergrades"][0]
    assert len(entry["gradeitems"]) == 3
    item = entry["gradeitems"][0]
    for key in ("id", "itemname", "itemtype", "itemmodule", "graderaw", "gradeformatted"):
        assert key in item
    assert {"grademax", "percentageformatted", "gradedategraded"} <= set(item)
    graded = [i for g in body["usergrades"] for i in g["gradeitems"][:2]]
    assert any(i["graderaw"] is None and i["gradeformatted"] == "-" for i in graded)
    one = await ws_json(
        http, "gradereport_user_get_grade_items", {"courseid": 2, "userid": entry["userid"]}
    )
    assert one["usergrades"] == [entry]


# ---- failures: all HTTP 200 with Moodle's exception body --------------------------------


async def _error(resp: httpx.Response) -> dict[str, str]:
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) >= {"exception", "errorcode", "message"}
    return dict(body)


async def test_invalid_or_missing_token(sandbox: SandboxServer, http: httpx.AsyncClient) -> None:
    expected = {
        "exception": "moodle_exception",
        "errorcode": "invalidtoken",
        "message": "Invalid token - token not found",
    }
    assert await _error(await ws(http, "core_webservice_get_site_info", token="nope")) == expected
    assert await _error(await ws(http, "core_webservice_get_site_info", token=None)) == expected


async def test_token_without_the_function(sandbox: SandboxServer, http: httpx.AsyncClient) -> None:
    sandbox.state.moodle.tokens["limited"] = {"core_webservice_get_site_info"}
    info = await ws_json(http, "core_webservice_get_site_info", token="limited")
    assert [f["name"] for f in info["functions"]] == ["core_webservice_get_site_info"]
    err = await _error(await ws(http, "core_course_get_courses", token="limited"))
    assert err["exception"] == "webservice_access_exception"
    assert err["errorcode"] == "accessexception"
    assert err["message"] == "Access control exception"
    assert "core_course_get_courses()" in err["debuginfo"]


@pytest.mark.parametrize(
    ("function", "params", "debug"),
    [
        ("core_enrol_get_enrolled_users", {}, "Missing required key in single structure: courseid"),
        ("core_enrol_get_enrolled_users", {"courseid": "abc"}, 'the value is "abc"'),
        ("gradereport_user_get_grade_items", {"courseid": "2x"}, 'expecting "int" type'),
        ("core_user_get_users", {}, "Missing required key in single structure: criteria"),
        ("core_user_get_users", {"criteria[0][key]": "email"}, "single structure: value"),
        ("core_course_get_courses", {"colour": "red"}, "Unexpected keys (colour)"),
    ],
)
async def test_invalid_parameters(
    sandbox: SandboxServer,
    http: httpx.AsyncClient,
    function: str,
    params: dict[str, str],
    debug: str,
) -> None:
    err = await _error(await ws(http, function, params))
    assert err["exception"] == "invalid_parameter_exception"
    assert err["errorcode"] == "invalidparameter"
    assert err["message"] == "Invalid parameter value detected"
    assert debug in err["debuginfo"]


async def test_unknown_function_course_and_user(
    sandbox: SandboxServer, http: httpx.AsyncClient
) -> None:
    err = await _error(await ws(http, "core_no_such_function"))
    assert err["exception"] == "dml_missing_record_exception"
    assert err["errorcode"] == "invalidrecord"
    assert err["message"] == "Can't find data record in database table external_functions."
    for function in ("core_enrol_get_enrolled_users", "gradereport_user_get_grade_items"):
        err = await _error(await ws(http, function, {"courseid": 99_999}))
        assert err["errorcode"] == "invalidrecord"
        assert err["message"] == "Can't find data record in database table course."
    err = await _error(
        await ws(http, "gradereport_user_get_grade_items", {"courseid": 2, "userid": 999_999})
    )
    assert err["message"] == "Can't find data record in database table user."
    missing = await _error(await ws(http, None))
    assert missing["errorcode"] == "invalidparameter"


async def test_xml_is_the_default_format(sandbox: SandboxServer, http: httpx.AsyncClient) -> None:
    resp = await ws(http, "core_course_get_courses", fmt=None)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/xml")
    assert "<RESPONSE>" in resp.text and '<KEY name="shortname">' in resp.text
    err = await ws(http, "core_course_get_courses", token="bad", fmt=None)
    assert '<EXCEPTION class="moodle_exception">' in err.text
    assert "<ERRORCODE>invalidtoken</ERRORCODE>" in err.text


async def test_login_token(sandbox: SandboxServer, http: httpx.AsyncClient) -> None:
    ok = await http.get(
        "/moodle/login/token.php",
        params={"username": "Admin", "password": "sandbox", "service": "moodle_mobile_app"},
    )
    assert ok.status_code == 200 and ok.json() == {"token": MOODLE_TOKEN, "privatetoken": None}
    posted = await http.post(
        "/moodle/login/token.php",
        data={"username": "admin", "password": "sandbox", "service": "integrations"},
    )
    assert posted.json()["token"] == MOODLE_TOKEN
    bad = await http.post(
        "/moodle/login/token.php",
        data={"username": "admin", "password": "wrong", "service": "integrations"},
    )
    assert bad.status_code == 200
    assert bad.json()["error"] == "Invalid login, please try again"
    assert bad.json()["errorcode"] == "invalidlogin"
    nosvc = await http.get(
        "/moodle/login/token.php",
        params={"username": "admin", "password": "sandbox", "service": "nope"},
    )
    assert nosvc.json()["errorcode"] == "servicenotavailable"
    missing = await http.get("/moodle/login/token.php", params={"username": "admin"})
    assert missing.json()["errorcode"] == "missingparam"


async def test_unknown_path_is_404(sandbox: SandboxServer, http: httpx.AsyncClient) -> None:
    assert (await http.get("/moodle/admin/index.php")).status_code == 404
