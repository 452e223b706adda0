"""Customs law enforcement cooperation: the strategy's objectives and its action plan."""

import datetime as dt
import enum

from clen_core.model.entity import Ordered, entity
from clen_core.model.fields import field

__all__ = ["ActionPlanItem", "ItemStatus", "Objective", "ObjectiveLevel"]

# 1, 1.a, 3.a.ii: strategic number, operational letter, optional roman sub-item.
_OBJECTIVE_ID = r"^[1-9][0-9]*(\.[a-z](\.(i|ii|iii|iv|v|vi|vii|viii|ix|x))?)?$"


class ObjectiveLevel(enum.StrEnum):
    """Strategic objectives break into operational ones."""

    STRATEGIC = "strategic"
    OPERATIONAL = "operational"


class ItemStatus(enum.StrEnum):
    """Progress of an action-plan item."""

    PLANNED = "planned"
    ONGOING = "ongoing"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@entity("objective", key="objective_id")
class Objective:
    """An objective of the strategy: strategic (``1``) or operational (``1.a``, ``3.a.ii``)."""

    objective_id: str = field("Identifier: ``1``, ``1.a``, ``3.a.ii``.", pattern=_OBJECTIVE_ID)
    level: ObjectiveLevel = field("Strategic or operational.")
    title: str = field("What the objective is.", max_length=500)
    parent: str | None = field(
        "Objective it breaks down (``3.a`` for ``3.a.ii``).",
        pattern=_OBJECTIVE_ID,
        ref="objective",
        default=None,
    )


@entity("action_plan_item", key="item_id", constraints=[Ordered("start", "end")])
class ActionPlanItem:
    """An item of the action plan the CCWP establishes, monitors and evaluates."""

    item_id: str = field("Identifier of the item.", max_length=64)
    title: str = field("What is to be done.", max_length=500)
    objectives: tuple[str, ...] = field(
        "Objectives it serves.", min_items=1, unique_items=True, ref="objective"
    )
    lead: str = field("Who leads it: a Member State or an EU body.", max_length=200)
    partners: tuple[str, ...] = field("Who takes part.", default=(), unique_items=True)
    start: dt.date = field("Start date.")
    end: dt.date | None = field("End date, when set.", default=None)
    status: ItemStatus = field("Progress.", default=ItemStatus.PLANNED)
    indicators: tuple[str, ...] = field("Indicators of achievement.", default=())
    evaluation: str | None = field(
        "How it contributed to its objectives.", max_length=4000, default=None
    )
