"""The network: laboratories, the six actions and their project groups."""

import enum
from collections.abc import Mapping

from clen_core.model.entity import entity
from clen_core.model.fields import field

__all__ = ["Action", "LabKind", "LabStatus", "Laboratory", "MemberState", "ProjectGroup"]


class LabKind(enum.StrEnum):
    """Whether a laboratory is a building or a vehicle."""

    FIXED = "fixed"
    MOBILE = "mobile"


class LabStatus(enum.StrEnum):
    """How a laboratory takes part in the network."""

    MEMBER = "member"
    THIRD_COUNTRY = "third_country"
    OBSERVER = "observer"


@entity("member_state", key="country")
class MemberState:
    """An EU Member State: its customs laboratories form the network."""

    country: str = field(
        "ISO 3166-1 alpha-2 code (Greece is GR; EU texts write EL).", code="country"
    )
    name: str = field("Short name in English.", max_length=100)
    joined: int = field("Year it joined the EU (or its predecessors).", ge=1958, le=2100)
    eu_code: str | None = field(
        "Code EU texts use when it differs from ISO (EL for Greece).", max_length=2, default=None
    )


@entity("laboratory", key="lab_id")
class Laboratory:
    """A customs laboratory: fixed or mobile; a Member-State, third-country or observer lab.

    The network's size changes with time and source, so it is this registry,
    never a constant. Third-country labs take part when criteria are met; the
    criteria are not public, so they are data: each named criterion, met or not.
    """

    lab_id: str = field("Identifier of the laboratory, e.g. ``AT-VIE-1``.", max_length=64)
    name: str = field("Name of the laboratory.", max_length=300)
    country: str = field("Country where the laboratory is (ISO 3166-1 alpha-2).", code="country")
    city: str | None = field("City where the laboratory is.", max_length=120, default=None)
    kind: LabKind = field("Fixed or mobile laboratory.", default=LabKind.FIXED)
    status: LabStatus = field("Member, third-country or observer.", default=LabStatus.MEMBER)
    accredited_17025: bool = field("Accredited to ISO/IEC 17025.", default=False)
    accreditation_body: str | None = field(
        "Body that granted the accreditation.", max_length=200, default=None
    )
    expertise: tuple[str, ...] = field(
        "Areas of expertise, e.g. ``tobacco``, ``textiles``.", default=(), unique_items=True
    )
    participation_criteria: Mapping[str, bool] = field(
        "Third-country labs: each named participation criterion and whether it is met.",
        factory=dict,
    )


@entity("action", key="number")
class Action:
    """One of the network's six actions (ILIADe, inter-comparisons, quality, ..., ECICS)."""

    number: int = field("Action number.", ge=1, le=6)
    name: str = field("Name of the action.", max_length=200)
    coordinator: str = field(
        "Who coordinates it: a Member State's name or the European Commission.", max_length=200
    )
    coordinator_country: str | None = field(
        "Coordinating Member State (ISO alpha-2); empty when the Commission coordinates.",
        code="country",
        default=None,
    )
    description: str | None = field("What the action does.", max_length=2000, default=None)


@entity("project_group", key="group_id")
class ProjectGroup:
    """A project group of an action, working on one theme with member laboratories.

    The Commission's listings sum a group up as ``4 meetings since 2010 – 18 members``:
    that is ``meetings``, ``since`` and ``members``, as published (at the listing's date).
    """

    group_id: str = field("Identifier of the project group.", max_length=64)
    action: int = field("Number of the action it belongs to.", ge=1, le=6, ref="action")
    theme: str = field("Theme, e.g. ``Designer Drugs``.", max_length=200)
    member_labs: tuple[str, ...] = field(
        "Identifiers of the member laboratories.", default=(), ref="laboratory", unique_items=True
    )
    members: int | None = field(
        "Number of members, as published (``18 members``), when the labs are not listed.",
        ge=0,
        default=None,
    )
    meetings: int | None = field(
        "Number of meetings held, as published (``4 meetings since 2010``).", ge=0, default=None
    )
    since: int | None = field(
        "Year the group started, or that its published meeting count runs from.",
        ge=1900,
        le=2100,
        default=None,
    )
