"""Unified record models: the vendor-neutral shapes served by the records API.

Each synced record is stored as (model, vendor id, unified data, raw vendor object). The unified
data is one of the models below, dumped with `model_dump(mode="json")`. Fields are optional where
vendors differ in what they supply; money is in minor units (cents/pence) with an ISO currency.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

UNIFIED_MODELS: tuple[str, ...] = (
    "students",
    "staff",
    "courses",
    "enrolments",
    "grades",
    "assessments",
    "customers",
    "invoices",
    "payments",
    "subscriptions",
    "accounts",
    "journal_entries",
    "residents",
    "properties",
    "rent_accounts",
    "repairs",
    "cases",
)


class Unified(BaseModel):
    """Base of every unified model: unknown vendor fields are not kept here (they live in raw)."""

    model_config = ConfigDict(extra="forbid")


class Student(Unified):
    first_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None
    email: str | None = None
    username: str | None = None
    student_number: str | None = None
    department: str | None = None
    institution: str | None = None
    city: str | None = None
    country: str | None = None
    last_access_at: datetime | None = None


class Course(Unified):
    code: str | None = None
    name: str
    external_id: str | None = None
    category_id: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    visible: bool | None = None
    kind: str = "course"  # course | unit | program | qualification | org_unit


class Enrolment(Unified):
    student_id: str
    course_id: str
    roles: list[str] = []
    status: str | None = None
    last_access_at: datetime | None = None


class Grade(Unified):
    student_id: str
    course_id: str
    item_id: str | None = None
    item_name: str | None = None
    item_type: str | None = None
    score: float | None = None
    max_score: float | None = None
    display: str | None = None
    graded_at: datetime | None = None


class Customer(Unified):
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    currency: str | None = None
    balance: int | None = None
    delinquent: bool | None = None
    description: str | None = None
    address: dict[str, Any] | None = None
    metadata: dict[str, str] = {}
    created_at: datetime | None = None


class Invoice(Unified):
    number: str | None = None
    customer_id: str | None = None
    customer_email: str | None = None
    status: str | None = None
    currency: str | None = None
    amount_due: int | None = None
    amount_paid: int | None = None
    amount_remaining: int | None = None
    subtotal: int | None = None
    total: int | None = None
    due_at: datetime | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    hosted_url: str | None = None
    metadata: dict[str, str] = {}
    created_at: datetime | None = None


class Payment(Unified):
    amount: int | None = None
    amount_received: int | None = None
    currency: str | None = None
    customer_id: str | None = None
    invoice_id: str | None = None
    status: str | None = None
    description: str | None = None
    payment_method_id: str | None = None
    metadata: dict[str, str] = {}
    created_at: datetime | None = None


class Subscription(Unified):
    customer_id: str | None = None
    status: str | None = None
    currency: str | None = None
    current_period_start: datetime | None = None
    current_period_end: datetime | None = None
    cancel_at_period_end: bool | None = None
    canceled_at: datetime | None = None
    items: list[dict[str, Any]] = []
    metadata: dict[str, str] = {}
    created_at: datetime | None = None
