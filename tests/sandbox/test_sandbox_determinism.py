"""Same seed, same data; another seed, other data; and the datasets' internal invariants."""

from __future__ import annotations

import httpx

from sandbox.determinism import IdCodec
from sandbox.moodle_data import FIRST_COURSE_ID, FIRST_USER_ID, MoodleDataset
from sandbox.server import SandboxServer
from sandbox.stripe_data import StripeDataset
from tests.sandbox.support import stripe_walk, ws_json


def _moodle_snapshot(ds: MoodleDataset) -> tuple[object, ...]:
    cid = ds.course_ids()[1]
    return (ds.users(), ds.courses(), ds.enrolled_users(cid), ds.grade_items(cid))


def _stripe_snapshot(ds: StripeDataset) -> list[dict[str, object]]:
    out = []
    for kind in ("customer", "invoice", "payment_intent", "subscription"):
        coll = ds.collection(kind)
        out += [coll.build(i) for i in range(coll.size())]
    return out


async def test_moodle_same_seed_same_data_other_seed_other_data() -> None:
    assert _moodle_snapshot(MoodleDataset(7, 500)) == _moodle_snapshot(MoodleDataset(7, 500))
    a, b = MoodleDataset(7, 500), MoodleDataset(8, 500)
    assert [u["username"] for u in a.users()] != [u["username"] for u in b.users()]
    assert a.enrolled_user_ids(FIRST_COURSE_ID) != b.enrolled_user_ids(FIRST_COURSE_ID)


async def test_stripe_same_seed_same_data_other_seed_other_data() -> None:
    assert _stripe_snapshot(StripeDataset(3, 60, 60, 60, 30)) == _stripe_snapshot(
        StripeDataset(3, 60, 60, 60, 30)
    )
    a, b = StripeDataset(3, 60, 60, 60, 30), StripeDataset(4, 60, 60, 60, 30)
    assert a.customer(0)["id"] != b.customer(0)["id"]
    assert [a.customer(i)["name"] for i in range(60)] != [b.customer(i)["name"] for i in range(60)]


async def test_same_seed_over_http_gives_identical_pages(
    sandbox: SandboxServer, http: httpx.AsyncClient
) -> None:
    sandbox.state.stripe.rate_limit_per_second = 0
    pages = []
    for seed in (5, 5, 6):
        resp = await http.post("/_control/stripe/dataset", json={"seed": seed, "size": 40})
        assert resp.status_code == 200, resp.text
        await http.post("/_control/moodle/dataset", json={"seed": seed, "size": 40})
        users = await ws_json(
            http, "core_user_get_users", {"criteria[0][key]": "email", "criteria[0][value]": "%"}
        )
        pages.append((await stripe_walk(http, "/v1/customers", 100), users))
    assert pages[0] == pages[1]
    assert pages[0][0] != pages[2][0] and pages[0][1] != pages[2][1]


async def test_moodle_enrolment_invariants() -> None:
    ds = MoodleDataset(11, 1_000)
    assert ds.course_count == max(3, 1_000 // 200)
    per_course = {cid: set(ds.enrolled_user_ids(cid)) for cid in ds.course_ids()}
    for index in range(ds.size):
        uid = FIRST_USER_ID + index
        courses = {cid for cid, members in per_course.items() if uid in members}
        assert 1 <= len(courses) <= 3
        assert courses == {FIRST_COURSE_ID + ci for ci in ds.user_course_indexes(index)}
    for cid in ds.course_ids():
        for entry in ds.grade_items(cid):
            items = entry["gradeitems"]
            assert [i["itemmodule"] for i in items] == ["assign", "quiz", None]
            assert items[2]["itemtype"] == "course"
            raws = [i["graderaw"] for i in items[:2] if i["graderaw"] is not None]
            assert items[2]["graderaw"] == (round(sum(raws), 2) if raws else None)


async def test_stripe_references_point_at_older_existing_customers() -> None:
    ds = StripeDataset(9, 150, 150, 150, 75)
    for kind in ("invoice", "payment_intent", "subscription"):
        coll = ds.collection(kind)
        for i in range(coll.size()):
            obj = coll.build(i)
            cus = ds.index_of("customer", obj["customer"])
            assert cus is not None
            assert ds.created("customer", cus) <= obj["created"]
    created = [ds.created("customer", i) for i in range(150)]
    assert created == sorted(created) and len(set(created)) < len(created)  # ties exist


async def test_id_codec_round_trips_and_rejects_foreign_ids() -> None:
    codec, other = IdCodec("cus", 1), IdCodec("cus", 2)
    for index in (0, 1, 99, 123_456, 999_999):
        obj_id = codec.encode(index)
        assert obj_id.startswith("cus_") and len(obj_id) == 18
        assert codec.decode(obj_id) == index
        assert other.decode(obj_id) is None
    assert codec.decode("cus_nope") is None and codec.decode("in_" + "0" * 14) is None
