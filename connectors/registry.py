"""The integration-type catalogue: every type id of DESIGN.md, and which ones are built.

An `available` type has a connector class; a `planned` one is listed (so the catalogue and the
valid-type list are complete and stable) but cannot be created yet: the API answers 422 naming
the available types. Adding a connector = one module + one line in `_BUILT`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from connectors.base import AuthKind, Connector, ConnectorContext, ConnectorSpec
from connectors.moodle import MoodleConnector
from connectors.stripe import StripeConnector

_BUILT: dict[str, type[Connector]] = {
    MoodleConnector.spec.type_id: MoodleConnector,
    StripeConnector.spec.type_id: StripeConnector,
}

# (type id, display name, category, auth kind) for the types still to be built.
_PLANNED: list[tuple[str, str, str, AuthKind]] = [
    ("readytech_jr", "ReadyTech JR Plus / Ready Student", "sms", "oauth2"),
    ("vettrak", "VETtrak", "sms", "api_key"),
    ("eskilled", "eSkilled", "sms", "oauth2"),
    ("axcelerate", "aXcelerate (legacy)", "sms", "ws_token"),
    ("cloudassess", "CloudAssess", "lms", "api_key"),
    ("coursebox", "Coursebox AI-LMS", "lms", "bearer_token"),
    ("d2l_brightspace", "D2L Brightspace", "lms", "oauth2"),
    ("canvas", "Canvas LMS (legacy)", "lms", "api_key"),
    ("quickbooks", "QuickBooks Online", "accounting", "oauth2"),
    ("sage_intacct", "Sage Intacct", "accounting", "session"),
    ("xero", "Xero", "accounting", "oauth2"),
    ("myob", "MYOB", "accounting", "oauth2"),
    ("civica_cx", "Civica Cx", "public_sector", "oauth2"),
    ("civica_icon", "Civica Icon Revenues", "public_sector", "api_key"),
    ("nec_housing", "NEC Housing", "public_sector", "oauth2"),
    ("nec_revenues", "NEC Revenues", "public_sector", "basic"),
    ("dynamics365", "Microsoft Dynamics 365", "public_sector", "oauth2"),
    ("msgraph", "Microsoft Graph (SharePoint, Teams, Power BI)", "public_sector", "oauth2"),
    ("salesforce", "Salesforce", "public_sector", "oauth2"),
    ("mri", "MRI Software", "public_sector", "oauth2"),
    ("itrent", "iTrent", "hr", "basic"),
    ("resourcelink", "ResourceLink", "hr", "api_key"),
    ("peoplehr", "People HR", "hr", "api_key"),
    ("soap_generic", "Generic SOAP service", "generic", "basic"),
    ("rest_generic", "Generic REST API", "generic", "bearer_token"),
    ("file_drop", "File drop (folder or SFTP)", "generic", "none"),
]


class CatalogueEntry(BaseModel):
    spec: ConnectorSpec
    status: Literal["available", "planned"]


def _catalogue() -> dict[str, CatalogueEntry]:
    entries = {
        type_id: CatalogueEntry(spec=cls.spec, status="available")
        for type_id, cls in _BUILT.items()
    }
    for type_id, name, category, auth in _PLANNED:
        entries[type_id] = CatalogueEntry(
            spec=ConnectorSpec(
                type_id=type_id, display_name=name, category=category, auth_kind=auth
            ),
            status="planned",
        )
    return dict(sorted(entries.items()))


CATALOGUE: dict[str, CatalogueEntry] = _catalogue()


def all_type_ids() -> list[str]:
    return list(CATALOGUE)


def available_type_ids() -> list[str]:
    return sorted(_BUILT)


def spec_for(type_id: str) -> ConnectorSpec:
    return CATALOGUE[type_id].spec


def build(type_id: str, ctx: ConnectorContext) -> Connector:
    """Instantiate the connector of an available type (KeyError for others)."""
    return _BUILT[type_id](ctx)
