"""The Commission's Action 5 page, as the ``listing`` importer reads it (generated).

Written by ``python scripts/build_reference_listing.py`` from ``action5.txt`` (a copy
of the page "Action 5 of the Customs Laboratories European Network: Scientific
expertise"): do not edit; ``tests/test_data.py`` fails while this differs from what the
importer reads. Each record comes with the line of the page where it starts.
"""

import datetime as dt

from clen_core.model import Activity, ActivityKind, ProjectGroup

_D = dt.date

SOURCE_FILE = "action5.txt"
"""The page's text, shipped in this package."""

INTRODUCTION_LINES: tuple[int, ...] = (15, 16, 18, 20, 21, 23, 24, 26)
"""Lines the importer reports as not understood: the page's introduction."""

# fmt: off
PROJECT_GROUPS: tuple[tuple[int, ProjectGroup], ...] = (
    (34, ProjectGroup(group_id="L5-PG-c81d3854", action=5, theme="Designer Drugs", meetings=5, since=2014)),
    (151, ProjectGroup(group_id="L5-PG-ba05ef54", action=5, theme="Tobacco and tobacco products", meetings=4, since=2010, members=18)),
)
"""The project groups the page names, each with its line (the sub-heading)."""

ACTIVITIES: tuple[tuple[int, Activity], ...] = (
    (36, Activity(activity_id="L5-652ecfa0", action=5, kind=ActivityKind.PROJECT_GROUP_MEETING, theme="Designer Drugs", city="Ispra", country="IT", start=_D(2017, 11, 14), end=_D(2017, 11, 15), participants=24, project_group_id="L5-PG-c81d3854")),
    (41, Activity(activity_id="L5-da218999", action=5, kind=ActivityKind.PROJECT_GROUP_MEETING, theme="Designer Drugs", city="Brussels", country="BE", start=_D(2017, 2, 7), end=_D(2017, 2, 7), participants=36, project_group_id="L5-PG-c81d3854")),
    (44, Activity(activity_id="L5-d0da4983", action=5, kind=ActivityKind.PROJECT_GROUP_MEETING, theme="Designer Drugs", city="Brussels", country="BE", start=_D(2015, 11, 23), end=_D(2015, 11, 25), participants=66, project_group_id="L5-PG-c81d3854")),
    (49, Activity(activity_id="L5-b01aafa3", action=5, kind=ActivityKind.PROJECT_GROUP_MEETING, theme="Designer Drugs", city="Lisbon", country="PT", start=_D(2015, 2, 5), end=_D(2015, 2, 7), participants=60, project_group_id="L5-PG-c81d3854")),
    (52, Activity(activity_id="L5-fe632df6", action=5, kind=ActivityKind.PROJECT_GROUP_MEETING, theme="Designer Drugs", city="Ispra", country="IT", start=_D(2014, 2, 6), end=_D(2014, 2, 7), participants=26, project_group_id="L5-PG-c81d3854")),
    (66, Activity(activity_id="L5-0ca616c8", action=5, kind=ActivityKind.WORKSHOP, theme="Designer Drugs", city="Berlin", country="DE", start=_D(2012, 9, 27), end=_D(2012, 9, 28), participants=80)),
    (81, Activity(activity_id="L5-ee7d82f7", action=5, kind=ActivityKind.WORKSHOP, theme="Customs Detection Technologies", city="Tartu", country="ET", start=_D(2017, 10, 10), end=_D(2017, 10, 12), participants=128)),
    (84, Activity(activity_id="L5-cbde77e3", action=5, kind=ActivityKind.WORKSHOP, theme="Customs Detection Technologies", city="Budapest", country="HU", start=_D(2014, 10, 7), end=_D(2014, 10, 9), participants=145)),
    (96, Activity(activity_id="L5-cda547e3", action=5, kind=ActivityKind.TRAINING_SESSION, theme="Plants", title="Microscopy", city="Brussels", country="BE", start=_D(2017, 9, 13), end=_D(2017, 9, 14), participants=20)),
    (114, Activity(activity_id="L5-2f0ffa74", action=5, kind=ActivityKind.WORKSHOP, theme="Plants", city="Peyresq", country="FR", start=_D(2014, 7, 7), end=_D(2014, 7, 9), participants=40)),
    (125, Activity(activity_id="L5-f83b4497", action=5, kind=ActivityKind.TRAINING_SESSION, theme="Liquid Scintillation Counting", city="Amsterdam", country="NL", start=_D(2014, 11, 20), end=_D(2014, 11, 21), participants=33)),
    (137, Activity(activity_id="L5-6b09cbeb", action=5, kind=ActivityKind.WORKSHOP, theme="Customs Tariff Implementation of Environmental Waste Codes", city="Brussels", country="BE", start=_D(2014, 1, 13), end=_D(2014, 1, 14), participants=114)),
    (160, Activity(activity_id="L5-e78a1f3c", action=5, kind=ActivityKind.PROJECT_GROUP_MEETING, theme="Tobacco and tobacco products", city="Sofia", country="BG", start=_D(2014, 1, 23), end=_D(2014, 1, 24), project_group_id="L5-PG-ba05ef54")),
    (163, Activity(activity_id="L5-c95b260f", action=5, kind=ActivityKind.PROJECT_GROUP_MEETING, theme="Tobacco and tobacco products", city="Budapest", country="HU", start=_D(2012, 7, 4), end=_D(2012, 7, 5), project_group_id="L5-PG-ba05ef54")),
    (166, Activity(activity_id="L5-dcdfee81", action=5, kind=ActivityKind.PROJECT_GROUP_MEETING, theme="Tobacco and tobacco products", city="Prague", country="CZ", start=_D(2011, 5, 25), end=_D(2011, 5, 25), project_group_id="L5-PG-ba05ef54")),
    (169, Activity(activity_id="L5-a0e49538", action=5, kind=ActivityKind.PROJECT_GROUP_MEETING, theme="Tobacco and tobacco products", city="Bucharest", country="RO", start=_D(2010, 11, 23), end=_D(2010, 11, 23), project_group_id="L5-PG-ba05ef54")),
    (180, Activity(activity_id="L5-ff45f173", action=5, kind=ActivityKind.WORKSHOP, theme="Textiles and Shoes", city="Athens", country="GR", start=_D(2012, 5, 29), end=_D(2012, 5, 30), participants=88)),
    (194, Activity(activity_id="L5-61e5185c", action=5, kind=ActivityKind.WORKSHOP, theme="Species Identification", title="the Use of Molecular Biology Techniques and other Identification Techniques", city="Amsterdam", country="NL", start=_D(2010, 2, 4), end=_D(2010, 2, 5), participants=42)),
)
"""The activities, each with the line where its entry starts."""
# fmt: on
