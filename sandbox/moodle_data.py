"""Deterministic Moodle site data: users, courses, student enrolments and grades.

Shapes follow vendors.md section 6 and Moodle's own external function return descriptions
(``core_enrol_external::get_enrolled_users_returns``, ``core_user_get_users``,
``gradereport_user_get_grade_items``): users carry ``id, username, firstname, lastname,
fullname, email, idnumber, department, institution, firstaccess, lastaccess, city, country``;
enrolled users add ``lastcourseaccess, groups, roles[{roleid, name, shortname, sortorder}],
enrolledcourses[{id, fullname, shortname}]``; courses carry ``id, shortname, fullname,
idnumber, categoryid, startdate, enddate, visible, timecreated, timemodified`` and the rest of
``core_course_get_courses``. As in Moodle, optional fields with an empty value (``idnumber``,
``department``) are left out of the user structure rather than sent empty, the student role's
``name`` is ``""`` (standard roles use their localised default name), the site course (id 1,
format ``site``) exists, and user ids start at 3 (1 is guest, 2 is admin; those two are not
listed by ``users()``). Profile image URLs are built on ``site_url`` (the site's ``wwwroot``,
set by ``SandboxServer`` to its real address), so what the methods return is byte-for-byte
what the web service serves. Grade items (marked [M] in vendors.md) follow
``gradereport_user``'s return description: per course an ``assign`` (max 100) and a ``quiz``
(max 10) item plus the ``course`` total (natural sum of the graded items); about 15% of grades
are ungraded (``graderaw`` null, ``gradeformatted`` "-").

Scale: nothing is generated up front. User ``i`` is enrolled in 1..3 courses chosen by
``perm[(i + offset_j) % C]``, which is invertible, so a course's member list is three arithmetic
progressions (computed on demand and cached per course) and a 100,000-user site serves any
``limitfrom`` page in milliseconds. Mutations are an overlay (changed fields, deleted ids).
"""

from __future__ import annotations

import random
from typing import Any

from sandbox.determinism import mix, pick, tag

FIRST_USER_ID = 3
SITE_COURSE_ID = 1
FIRST_COURSE_ID = 2
STUDENT_ROLE: dict[str, Any] = {"roleid": 5, "name": "", "shortname": "student", "sortorder": 0}
DEFAULT_SITE_URL = "http://127.0.0.1/moodle"
THEME_REV = 1700000000

FIRST_NAMES = (
    "Olivia", "Jack", "Amelia", "Noah", "Isla", "Oliver", "Mia", "Leo", "Ava", "William",
    "Charlotte", "Thomas", "Grace", "Henry", "Ruby", "Lucas", "Chloe", "James", "Zara", "Ethan",
    "Priya", "Mohammed", "Aisha", "Wei", "Mei", "Arjun", "Fatima", "Kenji", "Sofia", "Mateo",
    "Niamh", "Rhys", "Ngaio", "Tane", "Lily", "Harvey", "Ella", "Archie", "Sienna", "Oscar",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Jones", "Williams", "Brown", "Taylor", "Wilson", "Nguyen", "Patel", "Singh",
    "Chen", "Martin", "Walker", "Evans", "Thompson", "White", "Harris", "Clarke", "Roberts",
    "Khan", "Lewis", "Hughes", "Wood", "Murphy", "Kelly", "Campbell", "Stewart", "Anderson",
    "Ward", "Turner", "Cooper", "Morgan", "Baker", "Hill", "Scott", "Green", "Adams", "Mitchell",
    "Li", "Wang", "Ahmed",
)  # fmt: skip
CITIES = (
    ("Sydney", "AU"), ("Melbourne", "AU"), ("Brisbane", "AU"), ("Perth", "AU"),
    ("Adelaide", "AU"), ("Hobart", "AU"), ("Auckland", "NZ"), ("Wellington", "NZ"),
    ("London", "GB"), ("Manchester", "GB"), ("Leeds", "GB"), ("Bristol", "GB"),
    ("Glasgow", "GB"), ("Cardiff", "GB"), ("Dublin", "IE"), ("Toronto", "CA"),
)  # fmt: skip
DEPARTMENTS = ("Business", "Health", "Engineering", "Hospitality", "IT", "Trades", "Arts")
SUBJECTS = (
    ("BSB", "Business Administration"), ("CHC", "Community Services"),
    ("HLT", "Health Care"), ("ICT", "Information Technology"), ("SIT", "Hospitality"),
    ("CPC", "Construction"), ("FNS", "Accounting"), ("TAE", "Training and Assessment"),
    ("MEM", "Engineering"), ("AUR", "Automotive"), ("SIR", "Retail"), ("CUA", "Creative Arts"),
)  # fmt: skip

_T_PERM = tag("moodle.perm")
_T_OFFSET = tag("moodle.offset")
_T_BASE = tag("moodle.base")
_T_K = tag("moodle.k")
_T_USER = tag("moodle.user")
_T_ACCESS = tag("moodle.access")
_T_COURSE = tag("moodle.course")
_T_SUSP = tag("moodle.suspended")
_T_CACCESS = tag("moodle.courseaccess")
_T_GRADE = tag("moodle.grade")
_T_MUT = tag("moodle.mutation")
_DAY = 86_400


def _fmt2(value: float) -> str:
    return f"{value:.2f}"


class MoodleDataset:
    """A whole Moodle site computed from ``(seed, size)``; ``size`` is the number of users."""

    def __init__(self, seed: int, size: int, courses: int | None = None) -> None:
        if size < 0:
            raise ValueError("size must be >= 0")
        course_count = max(3, size // 200) if courses is None else courses
        if course_count < 3:
            raise ValueError("a sandbox Moodle site needs at least 3 courses")
        self.seed = seed
        self.size = size
        self.course_count = course_count
        rng = random.Random(mix(seed, _T_PERM))
        self._perm = list(range(course_count))
        rng.shuffle(self._perm)
        self._inv = [0] * course_count
        for pos, ci in enumerate(self._perm):
            self._inv[ci] = pos
        span = course_count - 1
        off1 = 1 + mix(seed, _T_OFFSET, 1) % span
        off2 = 1 + mix(seed, _T_OFFSET, 2) % span
        if off2 == off1:
            off2 = off1 % span + 1
        self._offsets = (0, off1, off2)
        self.base_time = 1_690_000_000 + mix(seed, _T_BASE) % 5_000_000
        self.now = self.base_time + 400 * _DAY
        self._members: dict[int, list[int]] = {}
        self._overrides: dict[int, dict[str, Any]] = {}
        self._deleted: set[int] = set()
        self._mutation_round = 0
        self.site_url = DEFAULT_SITE_URL

    # ---- identity -------------------------------------------------------------------------

    def user_index(self, user_id: int) -> int | None:
        """Index of a live (not deleted) user id, else ``None``."""
        index = user_id - FIRST_USER_ID
        if 0 <= index < self.size and index not in self._deleted:
            return index
        return None

    def course_index(self, course_id: int) -> int | None:
        index = course_id - FIRST_COURSE_ID
        return index if 0 <= index < self.course_count else None

    def course_ids(self) -> list[int]:
        return [FIRST_COURSE_ID + ci for ci in range(self.course_count)]

    def live_user_count(self) -> int:
        return self.size - len(self._deleted)

    # ---- enrolments -----------------------------------------------------------------------

    def _slots(self, index: int) -> int:
        return 1 + mix(self.seed, _T_K, index) % 3

    def user_course_indexes(self, index: int) -> list[int]:
        count = self.course_count
        return [self._perm[(index + self._offsets[j]) % count] for j in range(self._slots(index))]

    def _course_members(self, ci: int) -> list[int]:
        cached = self._members.get(ci)
        if cached is not None:
            return cached
        count = self.course_count
        pos = self._inv[ci]
        members: list[int] = []
        for j, offset in enumerate(self._offsets):
            start = (pos - offset) % count
            members.extend(i for i in range(start, self.size, count) if self._slots(i) > j)
        members.sort()
        self._members[ci] = members
        return members

    def _enrolment_suspended(self, index: int, ci: int) -> bool:
        return mix(self.seed, _T_SUSP, index, ci) % 100 < 3

    def enrolled_user_ids(self, course_id: int, onlyactive: bool = False) -> list[int]:
        """Ids of the users enrolled in a course, ascending (Moodle's default ``us.id ASC``)."""
        ci = self.course_index(course_id)
        if ci is None:
            return []
        return [
            FIRST_USER_ID + i
            for i in self._course_members(ci)
            if i not in self._deleted and not (onlyactive and self._enrolment_suspended(i, ci))
        ]

    # ---- users ----------------------------------------------------------------------------

    def _user_fields(self, index: int) -> dict[str, Any]:
        seed = self.seed
        uid = FIRST_USER_ID + index
        h = mix(seed, _T_USER, index)  # one hash, sliced, for the identity fields
        first = FIRST_NAMES[h % len(FIRST_NAMES)]
        last = LAST_NAMES[(h >> 8) % len(LAST_NAMES)]
        city, country = CITIES[(h >> 16) % len(CITIES)]
        access = mix(seed, _T_ACCESS, index)
        firstaccess = self.base_time + access % (200 * _DAY)
        fields: dict[str, Any] = {
            "id": uid,
            "username": f"{first}.{last}{uid}".lower(),
            "firstname": first,
            "lastname": last,
            "fullname": f"{first} {last}",
            "email": f"{first}.{last}.{uid}@students.sandbox.example".lower(),
            "idnumber": "" if (h >> 24) % 100 < 5 else f"SIS{uid:07d}",
            "department": (
                DEPARTMENTS[(h >> 40) % len(DEPARTMENTS)] if (h >> 32) % 100 < 60 else ""
            ),
            "institution": "Sandbox Training College",
            "firstaccess": firstaccess,
            "lastaccess": firstaccess + (access >> 20) % (180 * _DAY),
            "city": city,
            "country": country,
        }
        fields.update(self._overrides.get(index, {}))
        return fields

    def _profile_images(self, uid: int) -> dict[str, str]:
        base = f"{self.site_url}/theme/image.php/boost/core/{THEME_REV}/u"
        return {"profileimageurlsmall": f"{base}/f2", "profileimageurl": f"{base}/f1"}

    @staticmethod
    def _common(fields: dict[str, Any]) -> dict[str, Any]:
        out = {k: fields[k] for k in ("id", "username", "firstname", "lastname", "fullname")}
        out["email"] = fields["email"]
        for optional in ("department", "institution", "idnumber"):
            if fields[optional]:
                out[optional] = fields[optional]
        out["firstaccess"] = fields["firstaccess"]
        out["lastaccess"] = fields["lastaccess"]
        return out

    def user(self, user_id: int) -> dict[str, Any] | None:
        """One user as ``core_user_get_users`` returns it, or ``None`` if absent/deleted."""
        index = self.user_index(user_id)
        if index is None:
            return None
        fields = self._user_fields(index)
        out = self._common(fields)
        out.update(
            {
                "auth": "manual",
                "suspended": False,
                "confirmed": True,
                "lang": "en",
                "theme": "",
                "timezone": "99",
                "mailformat": 1,
                "description": "",
                "descriptionformat": 1,
                "city": fields["city"],
                "country": fields["country"],
            }
        )
        out.update(self._profile_images(fields["id"]))
        return out

    def users(self) -> list[dict[str, Any]]:
        """All live users as ``core_user_get_users`` returns them (criteria email = '%')."""
        result = []
        for index in range(self.size):
            if index not in self._deleted:
                found = self.user(FIRST_USER_ID + index)
                if found is not None:
                    result.append(found)
        return result

    def user_search_fields(self, index: int) -> dict[str, Any]:
        """The raw searchable fields of a live user index (for criteria matching)."""
        fields = self._user_fields(index)
        fields["auth"] = "manual"
        return fields

    def live_user_indexes(self) -> range | list[int]:
        if not self._deleted:
            return range(self.size)
        return [i for i in range(self.size) if i not in self._deleted]

    def enrolled_user(self, user_id: int, course_id: int) -> dict[str, Any] | None:
        """One enrolled user as ``core_enrol_get_enrolled_users`` returns it."""
        index = self.user_index(user_id)
        ci = self.course_index(course_id)
        if index is None or ci is None:
            return None
        fields = self._user_fields(index)
        out = self._common(fields)
        course_access = mix(self.seed, _T_CACCESS, index, ci)
        out["lastcourseaccess"] = (
            0 if course_access % 10 == 0 else fields["firstaccess"] + course_access % (90 * _DAY)
        )
        out.update(
            {
                "description": "",
                "descriptionformat": 1,
                "city": fields["city"],
                "country": fields["country"],
            }
        )
        out.update(self._profile_images(fields["id"]))
        out["groups"] = []
        out["roles"] = [dict(STUDENT_ROLE)]
        out["enrolledcourses"] = [
            {
                "id": FIRST_COURSE_ID + other,
                "fullname": self._course_names(other)[1],
                "shortname": self._course_names(other)[0],
            }
            for other in sorted(self.user_course_indexes(index))
        ]
        return out

    def enrolled_users(
        self,
        course_id: int,
        limitfrom: int = 0,
        limitnumber: int = 0,
        onlyactive: bool = False,
    ) -> list[dict[str, Any]]:
        """A course's enrolled users, ordered by id, with Moodle's SQL limitfrom/limitnumber."""
        ids = self.enrolled_user_ids(course_id, onlyactive)
        start = max(0, limitfrom)
        selected = ids[start : start + limitnumber] if limitnumber > 0 else ids[start:]
        out = []
        for uid in selected:
            found = self.enrolled_user(uid, course_id)
            if found is not None:
                out.append(found)
        return out

    # ---- courses --------------------------------------------------------------------------

    def _course_names(self, ci: int) -> tuple[str, str]:
        code, subject = pick(SUBJECTS, self.seed, _T_COURSE, ci)
        cid = FIRST_COURSE_ID + ci
        return f"{code}{cid:04d}", f"{subject} {cid:04d}"

    def site_course(self, site_name: str = "Sandbox Moodle") -> dict[str, Any]:
        return {
            "id": SITE_COURSE_ID,
            "shortname": "sandbox",
            "categoryid": 0,
            "categorysortorder": 1,
            "fullname": site_name,
            "displayname": site_name,
            "idnumber": "",
            "summary": "",
            "summaryformat": 1,
            "format": "site",
            "showgrades": 1,
            "newsitems": 3,
            "startdate": 0,
            "enddate": 0,
            "numsections": 1,
            "maxbytes": 0,
            "showreports": 0,
            "visible": 1,
            "groupmode": 0,
            "groupmodeforce": 0,
            "defaultgroupingid": 0,
            "timecreated": self.base_time - 400 * _DAY,
            "timemodified": self.base_time - 400 * _DAY,
            "enablecompletion": 0,
            "completionnotify": 0,
            "lang": "",
            "forcetheme": "",
            "courseformatoptions": [],
            "showactivitydates": False,
            "showcompletionconditions": None,
        }

    def course(self, course_id: int) -> dict[str, Any] | None:
        """One course as ``core_course_get_courses`` returns it."""
        ci = self.course_index(course_id)
        if ci is None:
            return None
        shortname, fullname = self._course_names(ci)
        h = mix(self.seed, _T_COURSE, ci, 1)
        startdate = self.base_time + (ci % 12) * 30 * _DAY
        timecreated = self.base_time - 90 * _DAY + ci * 3_600
        return {
            "id": course_id,
            "shortname": shortname,
            "categoryid": 1 + ci % 4,
            "categorysortorder": 10_000 * (1 + ci % 4) + ci,
            "fullname": fullname,
            "displayname": fullname,
            "idnumber": f"CRS-{course_id:05d}",
            "summary": f"<p>{fullname}: nationally recognised training.</p>",
            "summaryformat": 1,
            "format": "topics",
            "showgrades": 1,
            "newsitems": 5,
            "startdate": startdate,
            "enddate": startdate + 180 * _DAY,
            "numsections": 10,
            "maxbytes": 0,
            "showreports": 0,
            "visible": 0 if h % 20 == 0 else 1,
            "hiddensections": 0,
            "groupmode": 0,
            "groupmodeforce": 0,
            "defaultgroupingid": 0,
            "timecreated": timecreated,
            "timemodified": timecreated + h % (120 * _DAY),
            "enablecompletion": 1,
            "completionnotify": 0,
            "lang": "",
            "forcetheme": "",
            "courseformatoptions": [
                {"name": "hiddensections", "value": 0},
                {"name": "coursedisplay", "value": 0},
            ],
            "showactivitydates": True,
            "showcompletionconditions": True,
        }

    def courses(self, site_name: str = "Sandbox Moodle") -> list[dict[str, Any]]:
        """All courses, the site course (id 1) first, as ``core_course_get_courses`` does."""
        out = [self.site_course(site_name)]
        for course_id in self.course_ids():
            found = self.course(course_id)
            if found is not None:
                out.append(found)
        return out

    # ---- grades ---------------------------------------------------------------------------

    def _raw_grade(self, index: int, ci: int, item: int, grademax: float) -> float | None:
        h = mix(self.seed, _T_GRADE, index, ci, item)
        if h % 100 < 15:
            return None
        return round(((h >> 8) % 10_001) / 10_000 * grademax, 2)

    def _grade_item(
        self,
        ci: int,
        index: int,
        item: int,
        graderaw: float | None,
        grademax: float,
    ) -> dict[str, Any]:
        course_id = FIRST_COURSE_ID + ci
        kinds = (("mod", "assign", "Assignment 1: Written task"), ("mod", "quiz", "Quiz 1"))
        itemtype, itemmodule, itemname = kinds[item] if item < 2 else ("course", None, None)
        graded_at = None
        if graderaw is not None:
            graded_at = self.base_time + mix(self.seed, _T_GRADE, index, ci, item, 1) % (300 * _DAY)
        weight = grademax / 110.0 if item < 2 else None
        return {
            "id": 3 * ci + item + 1,
            "itemname": itemname,
            "itemtype": itemtype,
            "itemmodule": itemmodule,
            "iteminstance": course_id,
            "itemnumber": 0 if item < 2 else None,
            "idnumber": "",
            "categoryid": None if item < 2 else course_id,
            "outcomeid": None,
            "scaleid": None,
            "locked": False,
            "cmid": 10 * course_id + item if item < 2 else None,
            "weightraw": round(weight, 5) if weight is not None else None,
            "weightformatted": f"{weight * 100:.2f} %" if weight is not None else "-",
            "status": "",
            "graderaw": graderaw,
            "gradedatesubmitted": graded_at - 3_600 if graded_at is not None else None,
            "gradedategraded": graded_at,
            "gradehiddenbydate": False,
            "gradeneedsupdate": False,
            "gradeishidden": False,
            "gradeislocked": False,
            "gradeisoverridden": False,
            "gradeformatted": _fmt2(graderaw) if graderaw is not None else "-",
            "grademin": 0,
            "grademax": grademax,
            "rangeformatted": f"0&ndash;{grademax:g}",
            "percentageformatted": (
                f"{graderaw / grademax * 100:.2f} %" if graderaw is not None else "-"
            ),
            "lettergradeformatted": "-",
            "feedback": "",
            "feedbackformat": 0,
        }

    def user_grades(self, course_id: int, user_id: int) -> dict[str, Any] | None:
        """One ``usergrades`` entry (assign, quiz, then the course total)."""
        ci = self.course_index(course_id)
        index = self.user_index(user_id)
        if ci is None or index is None:
            return None
        enrolled = ci in self.user_course_indexes(index)
        maxes = (100.0, 10.0)
        raws = [self._raw_grade(index, ci, k, maxes[k]) if enrolled else None for k in range(2)]
        graded = [r for r in raws if r is not None]
        total = round(sum(graded), 2) if graded else None
        items = [self._grade_item(ci, index, k, raws[k], maxes[k]) for k in range(2)]
        items.append(self._grade_item(ci, index, 2, total, sum(maxes)))
        fields = self._user_fields(index)
        return {
            "courseid": course_id,
            "courseidnumber": f"CRS-{course_id:05d}",
            "userid": user_id,
            "userfullname": fields["fullname"],
            "useridnumber": fields["idnumber"],
            "maxdepth": 2,
            "gradeitems": items,
        }

    def grade_items(self, course_id: int, user_id: int = 0) -> list[dict[str, Any]]:
        """The ``usergrades`` list of ``gradereport_user_get_grade_items`` (0 = all users)."""
        ids = [user_id] if user_id else self.enrolled_user_ids(course_id)
        out = []
        for uid in ids:
            found = self.user_grades(course_id, uid)
            if found is not None:
                out.append(found)
        return out

    # ---- mutations (overlay) --------------------------------------------------------------

    def mutate_users(self, n: int) -> list[int]:
        """Change ``n`` live users' city/country and lastaccess; returns their ids."""
        live = self.live_user_count()
        n = max(0, min(n, live))
        rng = random.Random(mix(self.seed, _T_MUT, self._mutation_round))
        self._mutation_round += 1
        if n > live // 2:
            chosen = rng.sample(list(self.live_user_indexes()), n)
        else:
            picked: set[int] = set()
            while len(picked) < n:
                candidate = rng.randrange(self.size)
                if candidate not in self._deleted:
                    picked.add(candidate)
            chosen = list(picked)
        self.now += 3_600
        for k, index in enumerate(sorted(chosen)):
            current = self._user_fields(index)["city"]
            options = [c for c in CITIES if c[0] != current]
            city, country = options[rng.randrange(len(options))]
            self._overrides.setdefault(index, {}).update(
                {"city": city, "country": country, "lastaccess": self.now + k}
            )
        return sorted(FIRST_USER_ID + i for i in chosen)

    def delete_users(self, ids: list[int]) -> list[int]:
        """Delete users (they vanish from every function); returns the ids really deleted."""
        deleted = []
        for uid in ids:
            index = self.user_index(uid)
            if index is not None:
                self._deleted.add(index)
                deleted.append(uid)
        return deleted

    def summary(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "users": self.live_user_count(),
            "deleted_users": len(self._deleted),
            "mutated_users": len(self._overrides),
            "courses": self.course_count,
        }
