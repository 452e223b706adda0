"""International cooperation: partner organisations, customs attachés, information exchange."""

import datetime as dt
import enum

from clen_core.model.entity import Ordered, entity
from clen_core.model.fields import field

__all__ = ["AttachePost", "InformationExchange", "Partner", "PartnerKind"]


class PartnerKind(enum.StrEnum):
    """What kind of body a partner is."""

    INTERNATIONAL_ORGANISATION = "international_organisation"
    FORUM = "forum"
    REGIONAL_COUNCIL = "regional_council"
    EU_BODY = "eu_body"
    THIRD_COUNTRY_SERVICE = "third_country_service"


@entity("partner", key="partner_id")
class Partner:
    """A partner organisation: WCO, ASEM, CCLEC, OLAF, Europol, a third-country service..."""

    partner_id: str = field("Identifier, usually the acronym, e.g. ``WCO``.", max_length=64)
    name: str = field("Full name.", max_length=300)
    kind: PartnerKind = field("What kind of body it is.")
    country: str | None = field(
        "Seat or country, when it is national.", code="country", default=None
    )
    description: str | None = field("What the cooperation is about.", max_length=4000, default=None)


@entity("attache_post", key="post_id")
class AttachePost:
    """A customs attaché's post in a host country, possibly covering others too."""

    post_id: str = field("Identifier of the post.", max_length=64)
    host_country: str = field("Country the attaché is posted in.", code="country")
    covered_countries: tuple[str, ...] = field(
        "Other countries the post covers.", default=(), code="country", unique_items=True
    )
    focus: tuple[str, ...] = field("Focus areas, e.g. ``drugs``, ``trade``.", default=())
    city: str | None = field("City of the post.", max_length=120, default=None)
    posted_by: str | None = field(
        "Member State that posts the attaché.", code="country", default=None
    )


@entity("information_exchange", key="exchange_id", constraints=[Ordered("start", "end")])
class InformationExchange:
    """An exchange of information with a partner, on a subject, over a period."""

    exchange_id: str = field("Identifier of the exchange.", max_length=64)
    partner_id: str = field("Partner the information is exchanged with.", ref="partner")
    subject: str = field("What is exchanged, e.g. drug smuggling by post.", max_length=500)
    country: str | None = field("Member State taking part.", code="country", default=None)
    start: dt.date | None = field("Start date.", default=None)
    end: dt.date | None = field("End date.", default=None)
