"""The Customs funding programme and the actions it funds."""

import enum
from decimal import Decimal

from clen_core.model.entity import Ordered, entity
from clen_core.model.fields import field

__all__ = ["FundedAction", "FundedActionType", "Programme"]


class FundedActionType(enum.StrEnum):
    """The kinds of action the Customs programme funds."""

    SEMINARS_WORKSHOPS = "seminars_workshops"
    EXPERT_NETWORKS = "expert_networks"
    PROJECT_GROUPS = "project_groups"
    IT_CAPABILITY = "it_capability"
    CAPACITY_BUILDING = "capacity_building"
    STUDIES_INNOVATION_COMMUNICATION = "studies_innovation_communication"


@entity("programme", key="programme_id", constraints=[Ordered("start_year", "end_year")])
class Programme:
    """An EU funding programme, e.g. Customs 2021–2027 (EUR 950 million, DG TAXUD)."""

    programme_id: str = field("Identifier of the programme.", max_length=64)
    name: str = field("Name of the programme.", max_length=200)
    managed_by: str = field("Directorate-General managing it.", max_length=200)
    budget_eur: Decimal = field("Total budget in euro, exact.", ge=0, unit="EUR")
    start_year: int = field("First year.", ge=1900, le=2100)
    end_year: int = field("Last year.", ge=1900, le=2100)
    description: str | None = field("What it funds.", max_length=4000, default=None)


@entity("funded_action", key="funded_action_id")
class FundedAction:
    """An action funded by a programme, with its budget in euro as an exact decimal."""

    funded_action_id: str = field("Identifier of the funded action.", max_length=64)
    programme_id: str = field("Programme that funds it.", ref="programme")
    action_type: FundedActionType = field("Type of action.")
    title: str = field("What is funded.", max_length=500)
    budget_eur: Decimal = field("Budget in euro, exact.", ge=0, unit="EUR")
    year: int | None = field("Year of the funding.", ge=1900, le=2100, default=None)
    beneficiary_country: str | None = field(
        "Country of the beneficiary.", code="country", default=None
    )
