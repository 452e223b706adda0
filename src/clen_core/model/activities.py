"""Activities: meetings, workshops, trainings, seminars, plenaries and study visits."""

import datetime as dt
import enum

from clen_core.model.entity import Ordered, entity
from clen_core.model.fields import field

__all__ = ["Activity", "ActivityKind"]


class ActivityKind(enum.StrEnum):
    """What kind of event an activity is."""

    PROJECT_GROUP_MEETING = "project_group_meeting"
    WORKSHOP = "workshop"
    TRAINING_SESSION = "training_session"
    SEMINAR = "seminar"
    PLENARY = "plenary"
    STUDY_VISIT = "study_visit"
    OTHER = "other"


@entity("activity", key="activity_id", constraints=[Ordered("start", "end")])
class Activity:
    """An event of the network: where, when, under which action and theme, with how many people."""

    activity_id: str = field("Identifier of the activity.", max_length=64)
    action: int = field("Number of the action it comes under.", ge=1, le=6, ref="action")
    kind: ActivityKind = field("Kind of event.")
    theme: str = field("Theme it stands under, e.g. ``Designer Drugs``.", max_length=200)
    title: str | None = field(
        "Title beyond the kind, e.g. the workshop's subject.", max_length=500, default=None
    )
    city: str = field("City where it was held.", max_length=120)
    country: str = field("Country where it was held (ISO 3166-1 alpha-2).", code="country")
    start: dt.date = field("First day.")
    end: dt.date = field("Last day; equal to start for a one-day event.")
    participants: int | None = field("Number of participants, when published.", ge=0, default=None)
    project_group_id: str | None = field(
        "Project group that met, for project-group meetings.",
        max_length=64,
        ref="project_group",
        default=None,
    )
    notes: str | None = field("Free-text notes.", max_length=4000, default=None)
