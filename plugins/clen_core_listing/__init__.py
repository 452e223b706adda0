"""clen_core's built-in importer of published activity listings (a plugin; reads only).

The Commission publishes the network's activities as text listings, mostly
text extracted from PDF. The ``listing`` format reads such a text into
``activity`` records and the ``project_group`` records they meet in; it
cannot write. It claims no file extension (``.txt`` says too little): choose
it with ``format="listing"`` (``--from listing``), or let detection pick it
for a ``.txt`` or extension-less file whose first 4 KiB hold the heading
``Action N of the Customs Laboratories`` (spaces and line breaks may vary)
or at least two entry lines such as ``Vienna (AT), 3-4 March 2016``. Read it
as entity ``activity`` or ``project_group``, or whole as a dataset (both);
reading it for another entity is refused
(:class:`~clen_core.io.formats.FormatError`).

The layout
----------

An illustrative example in the published style, as PDF text comes out (bullets,
breaks and dashes vary)::

    Action 5 of the Customs Laboratories
    European Network:
    Scientific expertise
    Examples of activities carried out under Action 5:
    Precursor Chemicals
    Project Group Meetings  3 meetings since 2016:
     Vienna (AT), 3-4
    March 2016 – 41
    participants
    Honey Authenticity
    Workshop on Isotope Ratio
    Techniques and other Authentication Methods
     Thessaloniki (EL), 11-13 May 2016 - 64 participants

What is recognised
------------------

- **The document heading**
  ``Action N of the Customs Laboratories European Network``, also broken
  over lines, or the short form ``Action N – name``, gives every record
  after it its ``action``; a later heading switches the action. Without any
  heading, the action comes from a line
  ``Examples of activities carried out under Action N``; a listing with
  neither is refused with a :class:`~clen_core.io.formats.FormatError` (readers
  take no options yet). The line after the heading that names the action
  (``Scientific expertise``) and the ``Examples of activities ...`` line
  are recognised and dropped.
- **Theme**: the heading an entry stands under: plain text on one or more
  lines (up to 150 characters, e.g. ``Precursor Chemicals``) followed by a
  sub-heading, a summary line or, at the start of the document only,
  directly by entries. Entries with no theme above them take their
  sub-heading's title (or text) as theme.
- **Sub-heading**: gives the ``kind`` and, with its extra words, the
  ``title``. ``Project Group Meeting(s)`` → ``project_group_meeting``;
  ``Workshop ...`` → ``workshop``; ``Training Session``,
  ``... Training Session`` or ``Training ...`` → ``training_session``;
  ``Seminar`` → ``seminar``; ``Plenary`` → ``plenary``; ``Study visit`` →
  ``study_visit``; ``Meeting``, ``Conference``, ``Webinar``, ``Course``,
  ``Symposium``, ``Forum``, ``Visit`` or ``Working group`` → ``other``.
  The title is the text after the keyword, a leading ``on``, ``of``,
  ``for``, ``about``, colon or dash dropped
  (``Workshop on Isotope Ratio Techniques`` →
  ``Isotope Ratio Techniques``); the words before the keyword when there
  are none after it (``Handheld Devices Training Session`` →
  ``Handheld Devices``); the whole sub-heading when there are words on both
  sides or the kind is ``other``; nothing for a bare keyword. Plain lines
  after a sub-heading and before its first entry continue its title.
  Entries under a theme without a sub-heading are ``other``
  (``project_group_meeting`` when a summary line names meetings).
- **Project groups**: the entries of a ``project_group_meeting``
  sub-heading, and those under a summary line, are meetings of the project
  group of their theme: one ``project_group`` record per action and theme
  (its row: the line of the sub-heading, or of the summary when there is
  none), named by each meeting's ``project_group_id``.
- **Summary lines** such as ``3 meetings since 2015 – 11 members``, or
  ``18 members`` alone, or at the end of the sub-heading line
  (``Project Group Meetings 3 meetings since 2016:``), also broken over
  lines, are facts about the project group, never events: its ``meetings``
  (3), ``since`` (2015; also for ``in`` and ``from``) and ``members`` (11),
  as published. A later section of the same group whose summary gives other
  figures is reported, and the first figures kept.
- **Entries** ``City (CC), dates – N participants``: the city as written;
  the country as its canonical ISO code (``EL`` → ``GR``, ``UK`` → ``GB``;
  an unknown code is kept, and rejected by the entity's check); places
  outside the Member States kept as written (rule ACT-001 flags them). The
  comma after the country may be missing, or be a dash.
- **Dates**: one day (``21st May 2015``); a range or list of days in a
  month (``23-25 November 2015``, ``4th & 5th July 2012``,
  ``4, 5 and 6 July 2012``); across months
  (``30 September - 2 October 2015``); across years
  (``30 December 2015 - 2 January 2016``, or
  ``30 December - 2 January 2016``); month first (``March 3-4, 2016``).
  Ordinals ``st``, ``nd``, ``rd``, ``th`` (also detached, ``4 th``, or on
  the next line); English month names, full or abbreviated (``Sept.``);
  ``-``, ``–``, ``—``, ``to``, ``&``, ``and`` or ``/`` between days.
  ``start`` is the first day named, ``end`` the last.
- **Participants** (optional): a number after an en dash, a hyphen, a
  comma or nothing, followed by ``participants`` (or ``participant(s)``,
  ``pax``, ``persons``, ``people``, ``attendees``, ``delegates``), or in
  brackets (``(41 participants)``); after a dash or comma the word may be
  missing (``– 41``). What follows the word on its line, when it starts
  with ``from``, ``per``, ``of``, ``in``, ``including``, ``representing``,
  ``with``, ``and`` or a bracket, goes into the ``notes``
  (``participants per session``).
- **Layout noise**: an entry may be broken over any number of lines (a line
  continues the open entry when the entry still reads with it, or when its
  beginning completes the entry; ``City (CC)`` must be on one line); blank
  and whitespace-only lines; bullets (``•``, ``-``, ``*``, ``▪``, ``o``,
  the Symbol-font bullet of PDF text and the like) or none; list numbers
  (``1.``); non-breaking and zero-width spaces, soft hyphens; a trailing
  ``.`` or ``;``; CR, LF and CRLF line ends; a UTF-8 byte-order mark.

What ends up in the report
--------------------------

Every non-blank line ends up in a record (an entry, or the heading, theme,
sub-heading or summary the record carries) or is reported as a rejected
row, never silently dropped. A rejected row
(:class:`~clen_core.io.records.RowProblem`) gives the line number where the
text not understood starts, the reason and the text:

- a line that is none of the above (page numbers, page headers, stray
  words, prose, an event without ``City (CC)``): ``not understood: ...``;
  such a line does not interrupt an entry broken around it;
- an entry that does not read to its end (no year, a place without
  dates); when its beginning reads as a whole event, the event is kept and
  only the rest is reported, from the line where the rest starts;
- an impossible date (``31 February 2016``);
- a theme, sub-heading or summary with no event under it;
- plain text between the entries of a section that no sub-heading follows
  (a page header, or a theme without a sub-heading: the entries after it
  stay under the theme above, so check the line).

Values that read but do not fit the entity (a country code that does not
exist, an end before the start, an action above 6, no theme at all) are
rejected by the entity's check, as for any format, naming the field.

**Row numbers** are line numbers (1-based; CR, LF and CRLF end a line;
blank lines count); a record's row is the line where its entry starts.

**Activity IDs** are ``L<action>-`` and 8 hex digits of a SHA-256 of the
theme, kind, city, country and start, with ``-2``, ``-3`` ... for repeats
in the file: the same listing always gives the same IDs, and editing one
entry leaves the others' IDs alone. **Project-group IDs** are
``L<action>-PG-`` and 8 hex digits of a SHA-256 of the theme.

The listing's problems are reported whichever entity is read; a dataset
read reports them once.

The file is read whole (listings are small) and must be UTF-8; other bytes
stop the reading with a :class:`~clen_core.io.formats.FormatError` naming the
line.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import PurePath
from typing import IO, Any

import attrs

from clen_core.codes import country
from clen_core.plugin_api import (
    CodeError,
    EntityInfo,
    Format,
    FormatError,
    RawRecord,
    RowProblem,
    hookimpl,
    limits,
)

__all__ = [
    "Listing",
    "clen_detect_format",
    "clen_register_formats",
    "detect_listing",
    "parse_listing",
    "read_listing",
    "read_listing_dataset",
]


class _Lazy:
    """A regular expression compiled at its first use.

    The plugin is loaded by every ``clen`` command; compiling its two dozen
    expressions up front took ~15 ms of each command's start, for listings
    that most commands never read.
    """

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._args = (pattern, flags)
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        """The compiled expression (``re`` caches it too, so a race costs nothing)."""
        if self._compiled is None:
            self._compiled = re.compile(*self._args)
        return self._compiled

    def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
        """As :meth:`re.Pattern.match`."""
        return self.compiled.match(text, pos)

    def fullmatch(self, text: str) -> re.Match[str] | None:
        """As :meth:`re.Pattern.fullmatch`."""
        return self.compiled.fullmatch(text)

    def search(self, text: str) -> re.Match[str] | None:
        """As :meth:`re.Pattern.search`."""
        return self.compiled.search(text)

    def finditer(self, text: str, pos: int = 0) -> Iterator[re.Match[str]]:
        """As :meth:`re.Pattern.finditer`."""
        return self.compiled.finditer(text, pos)

    def findall(self, text: str) -> list[Any]:
        """As :meth:`re.Pattern.findall`."""
        return self.compiled.findall(text)

    def split(self, text: str) -> list[str]:
        """As :meth:`re.Pattern.split`."""
        return self.compiled.split(text)

    def sub(self, repl: str | Callable[[re.Match[str]], str], text: str, count: int = 0) -> str:
        """As :meth:`re.Pattern.sub`."""
        return self.compiled.sub(repl, text, count=count)


# --------------------------------------------------------------------------- text clean-up

_SPACES = _Lazy(r"[\s\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\ufeff]+")
_INVISIBLE = _Lazy(r"[\u00ad\u200b-\u200d\u2060]")
_BULLET = _Lazy(
    r"^(?:[\uf000-\uf0ff\u2022\u2023\u2043\u2219\u25aa\u25ab\u25cf\u25cb\u25a0\u25a1"
    r"\u25ba\u25b6\u25e6\u2756\u27a2\u00b7\u00bb>*+\-\u2010-\u2015\u2212]|o(?=\s)|\d{1,2}[.)](?=\s))"
    r"\s*"
)


def _clean(text: str) -> str:
    """A line with invisible characters removed and every run of spaces one space, stripped."""
    text = _INVISIBLE.sub("", text)
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    return _SPACES.sub(" ", text).strip()


def _unbullet(text: str) -> str:
    """The line without a leading bullet or list number."""
    while True:
        stripped = _BULLET.sub("", text, count=1)
        if stripped == text:
            return text
        text = stripped


def _norm_words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.lower())


# --------------------------------------------------------------------------- entry tokens

_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11,
    "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December")  # fmt: skip
_PARTICIPANT_WORDS = r"participants?|participant\(s\)|pax|persons|people|attendees|delegates"
_TOKEN = _Lazy(
    r"\s*(?:"
    r"(?P<num>\d+)(?:\s*(?P<ord>st|nd|rd|th)(?![^\W\d_]))?"
    rf"|(?P<mon>(?:{'|'.join(sorted(_MONTHS, key=len, reverse=True))})(?![^\W\d_])\.?)"
    rf"|(?P<part>(?:{_PARTICIPANT_WORDS})(?![\w(]))"
    r"|(?P<ordsfx>(?:st|nd|rd|th)\b)"
    r"|(?P<dash>[\-\u2010-\u2015\u2212]|(?:to|until|till)\b)"
    r"|(?P<amp>[&+/]|and\b)"
    r"|(?P<comma>[,;])"
    r"|(?P<end>[.:])"
    r"|(?P<lp>\()"
    r"|(?P<rp>\))"
    r"|(?P<other>\S+))",
    re.IGNORECASE,
)


@attrs.frozen
class _Tok:
    kind: str
    text: str
    line: int
    col: int
    value: int = 0
    digits: int = 0
    ordinal: bool = False


def _tokens(text: str, line: int, offset: int = 0) -> list[_Tok]:
    out = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:  # only trailing spaces left
            break
        kind = m.lastgroup or "other"
        if kind == "ord":
            kind = "num"
        start = m.start(kind)
        if kind == "num":
            digits = m.group("num")
            out.append(
                _Tok("num", m.group(0).strip(), line, offset + start, int(digits[:9]),
                     len(digits), m.group("ord") is not None)
            )  # fmt: skip
        elif kind == "mon":
            month = _MONTHS[m.group("mon").rstrip(".").lower()]
            out.append(_Tok("mon", m.group("mon"), line, offset + start, month))
        else:
            out.append(_Tok(kind, m.group(kind), line, offset + start))
        pos = m.end()
    return out


def _is_day(t: _Tok) -> bool:
    return t.kind == "num" and t.digits <= 2 and 1 <= t.value <= 31


def _is_year(t: _Tok) -> bool:
    return t.kind == "num" and t.digits == 4 and not t.ordinal


def _is_count(t: _Tok) -> bool:
    return t.kind == "num" and t.digits <= 5 and not t.ordinal


# The dates-and-participants grammar, run as a small NFA so that a prefix can be told
# apart from a dead end (an entry broken over lines reads on while it still can).
# A configuration is (state, captures): captures are ("d"|"m"|"y"|"p", value) events.
_ACCEPT = frozenset({"Y", "C", "W", "E", "T"})
_ACCEPT_AT_CLOSE = _ACCEPT | {"Ps"}  # a dangling dash or comma after the dates

Config = tuple[str, tuple[tuple[str, int], ...]]


def _step(config: Config, t: _Tok) -> list[Config]:
    state, caps = config
    k = t.kind
    out: list[Config] = []

    def go(new: str, *cap: tuple[str, int]) -> None:
        out.append((new, (*caps, *cap)))

    if state == "S":  # right after "City (CC)"
        if k in ("comma", "dash"):
            go("S1")
        elif _is_day(t):
            go("D", ("d", t.value))
        elif k == "mon":
            go("F", ("M", t.value))
    elif state in ("S1", "Ds", "Yd"):
        if _is_day(t):
            go("D", ("d", t.value))
        elif k == "mon" and state == "S1":
            go("F", ("M", t.value))
    elif state in ("F", "Fs"):  # month first: "March 3-4, 2016"
        if _is_day(t):
            go("Fd", ("d", t.value))
        elif k == "mon" and state == "Fs":
            go("F", ("M", t.value))
    elif state == "Fd":
        if k == "ordsfx":
            go("Fd")
        elif k in ("dash", "amp"):
            go("Fs")
        elif k == "comma":
            go("Fs")
            go("Mc")
        elif _is_year(t):
            go("Y", ("y", t.value))
    elif state == "D":
        if k == "ordsfx":
            go("D")  # "1" at a line's end, "st" on the next: a superscript
        elif k in ("dash", "amp", "comma"):
            go("Ds")
        elif k == "mon":
            go("M", ("m", t.value))
    elif state == "M":
        if _is_year(t):
            go("Y", ("y", t.value))
        elif k == "comma":
            go("Mc")
        elif k in ("dash", "amp"):
            go("Ds")
    elif state == "Mc":
        if _is_year(t):
            go("Y", ("y", t.value))
        elif _is_day(t):
            go("D", ("d", t.value))
    elif state == "Y":
        if k == "dash":
            go("Yd")
            go("Ps")
        elif k == "amp":
            go("Yd")
        elif k == "comma":
            go("Ps")
        elif k == "lp":
            go("Pp")
        elif k == "end":
            go("E")
        elif _is_count(t):
            go("C0", ("p", t.value))
    elif state == "Ps":
        if _is_count(t):
            go("C", ("p", t.value))
        elif k == "lp":
            go("Pp")
    elif state == "Pp":
        if _is_count(t):
            go("Pc", ("p", t.value))
    elif state == "Pc":
        if k == "part":
            go("Pw")
        elif k == "rp":
            go("W")
    elif state == "Pw":
        if k == "rp":
            go("W")
    elif state in ("C", "C0"):
        if k == "part":
            go("W", ("wl", t.line), ("wc", t.col))
        elif k in ("end", "comma") and state == "C":
            go("E")
    elif state in ("W", "E") and k in ("end", "comma"):
        go("E")
    elif state == "W" and (k == "lp" or t.text.lower() in _TAIL_WORDS):
        go("T")  # "41 participants from 13 Member States": the rest of the line, in the notes
    elif state == "T" and t.line == dict(caps)["wl"]:
        go("T")
    return out


_TAIL_WORDS = frozenset(
    ("from", "per", "of", "in", "incl", "incl.", "including", "representing", "with", "and")
)


def _advance(configs: list[Config], t: _Tok) -> list[Config]:
    seen: dict[str, Config] = {}
    for c in configs:
        for n in _step(c, t):
            seen.setdefault(n[0], n)
    return list(seen.values())


def _dates(caps: tuple[tuple[str, int], ...]) -> tuple[list[tuple[int, int, int]], bool]:
    """The (year, month, day) of every day named, and whether the first year was implied."""
    days: list[int] = []
    undated: list[tuple[int, int]] = []
    out: list[tuple[int, int, int]] = []
    first_implied = False
    month_first = 0
    for what, v in caps:
        if what == "M":
            month_first = v
        elif what == "d" and month_first:
            undated.append((month_first, v))
        elif what == "d":
            days.append(v)
        elif what == "m":
            undated += [(v, d) for d in days]
            days = []
        elif what == "y":
            if not out and len({m for m, _ in undated}) > 1:
                first_implied = True
            out += [(v, m, d) for m, d in undated]
            undated = []
            month_first = 0
    return out, first_implied


# --------------------------------------------------------------------------- line shapes

_LETTER = r"[^\W\d_]"
_PLACE = _Lazy(
    rf"(?P<city>(?:['’]s[\- ])?{_LETTER}+(?:[ .'’\-/]{{1,3}}{_LETTER}+){{0,7}}\.?)"
    r"\s*\(\s*(?P<cc>[A-Za-z]{2})\s*\)"
)
_HEADING = _Lazy(r"(?:CLEN\s+)?Action\s+(?P<n>\d{1,3})\b\s*(?P<rest>.*)", re.IGNORECASE)
_PHRASE = ["of", "the", "customs", "laboratories", "european", "network", "clen"]
_INTRO = _Lazy(r"Examples?\s+of\s+(?:the\s+)?(?:\w+\s+)?activit", re.IGNORECASE)
_INTRO_ACTION = _Lazy(r"\bAction\s+(?P<n>\d{1,3})\b", re.IGNORECASE)
_INTRO_END = _Lazy(r"(?:[\w\s]*\bAction\s+\d+|(?:carried|out|under)\b.*)\s*:", re.IGNORECASE)
_SUMMARY = _Lazy(
    r"(?P<n>\d{1,4})\s+(?P<word>meetings?)\s+(?P<since>since|in|from)\s+(?P<y>\d{4})"
    r"(?:\s*[\-\u2010-\u2015,;]?\s*(?P<m>\d{1,5})(?:\s+members?)?)?\s*[:.;]?",
    re.IGNORECASE,
)
_SUMMARY_START = _Lazy(r"\d{1,4}\s+meetings?(?:\s+(?:since|in|from))?", re.IGNORECASE)
_MEMBERS = _Lazy(r"(?P<m>\d{1,5})\s+members?\s*[:.;]?", re.IGNORECASE)
_INLINE_SUMMARY = _Lazy(
    r"(?P<head>.*?)\s*[(\-\u2010-\u2015:,]?\s*"
    r"(?P<sum>\d{1,4}\s+meetings?\s+(?:since|in|from)\s+\d{4}.*?|\d{1,5}\s+members?\b.*?)"
    r"\s*\)?\s*[:.;]?",
    re.IGNORECASE,
)
_KINDS: tuple[tuple[str, _Lazy], ...] = tuple(
    (kind, _Lazy(pattern, re.IGNORECASE))
    for kind, pattern in (
        ("project_group_meeting", r"\bproject\s+groups?(?:\s+meetings?)?\b"),
        ("training_session", r"\btraining\s+sessions?\b|\btrainings?\b"),
        ("workshop", r"\bworkshops?\b"),
        ("seminar", r"\bseminars?\b"),
        ("plenary", r"\bplenar(?:y|ies)(?:\s+meetings?)?\b"),
        ("study_visit", r"\bstudy\s+visits?\b"),
        (
            "other",
            r"\b(?:technical\s+|expert\s+)?meetings?\b|\bconferences?\b|\bwebinars?\b"
            r"|\bcourses?\b|\bsymposi(?:um|a)\b|\bforums?\b|\bvisits?\b|\bworking\s+groups?\b",
        ),
    )
)
_CONNECTOR = _Lazy(r"^(?:[:,\-\u2010-\u2015]\s*)?(?:(?:on|of|for|about|in)\b\s*)?")
_FURNITURE = _Lazy(
    r"(?:page\s+)?\d+(?:\s*(?:/|of)\s*\d+)?|https?://\S+|www\.\S+"
    r"|european\s+commission|taxation\s+and\s+customs\s+union",
    re.IGNORECASE,
)
_HEADING_CHARS = _Lazy(r"[\w\s,&/()'’\".:;!?+\-\u2010-\u2015%]+")
_MAX_HEADING = 120
_MAX_WORDS = 14
_MAX_THEME = 150
_MAX_TOKENS = 120


def _known_action_names() -> dict[int, str]:
    try:
        from clen_core.data import ACTIONS
    except ImportError:  # pragma: no cover - the reference data ships with the package
        return {}
    return {n: name for n, name, *_ in ACTIONS}


def _is_fragment(text: str) -> bool:
    """Whether a line is only dates, numbers and participant words (a piece of an entry)."""
    kinds = set()
    for m in _TOKEN.finditer(text):
        if m.lastgroup == "other":
            return False
        kinds.add(m.lastgroup)
    return bool(kinds & {"num", "ord", "mon", "part"})


def _heading_like(text: str) -> bool:
    """Whether a line can be (part of) a theme or a sub-heading."""
    if len(text) > _MAX_HEADING or len(text.split()) > _MAX_WORDS:
        return False
    if not re.match(rf"{_LETTER}|\d+{_LETTER}", text):
        return False
    if text.endswith(".") and not text.endswith(".."):
        return False  # a sentence: prose, not a heading
    if _HEADING_CHARS.fullmatch(text) is None or _FURNITURE.fullmatch(text):
        return False
    return sum(c.isalpha() for c in text) >= 2 and not _is_fragment(text)


def _kind_of(text: str) -> tuple[str, str | None] | None:
    """The kind and title a sub-heading line gives, or None when it names no kind."""
    best: tuple[int, str, re.Match[str]] | None = None
    for kind, pattern in _KINDS:
        m = pattern.search(text)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), kind, m)
    if best is None:
        return None
    _, kind, m = best
    before, after = text[: m.start()].strip(), text[m.end() :].strip()
    if kind == "other" or (before and after):
        title: str | None = text
    elif before:
        title = before  # "Handheld Devices Training Session"
    else:
        title = _CONNECTOR.sub("", after, count=1)
    title = (title or "").strip(" :;,-\u2013\u2014") or None
    return kind, title


@attrs.frozen
class _Summary:
    """What a summary line says of a project group: ``4 meetings since 2010 – 18 members``."""

    meetings: int | None = None
    since: int | None = None
    members: int | None = None

    def fill(self, other: _Summary) -> _Summary:
        """These facts, with those missing taken from ``other``."""
        return _Summary(
            self.meetings if self.meetings is not None else other.meetings,
            self.since if self.since is not None else other.since,
            self.members if self.members is not None else other.members,
        )

    def facts(self) -> dict[str, int]:
        """The facts given, as ``project_group`` values."""
        found = {"meetings": self.meetings, "since": self.since, "members": self.members}
        return {k: v for k, v in found.items() if v is not None}


def _summary_of(m: re.Match[str]) -> _Summary:
    given = m.groupdict()
    members = int(m["m"]) if m["m"] else None
    if given.get("n"):
        return _Summary(int(m["n"]), int(m["y"]), members)
    return _Summary(members=members)


def _parse_summary(text: str) -> _Summary | None:
    m = _SUMMARY.fullmatch(text) or _MEMBERS.fullmatch(text)
    return _summary_of(m) if m else None


# --------------------------------------------------------------------------- the parse


@attrs.frozen
class _Line:
    no: int
    text: str  # cleaned
    bare: str  # cleaned, without bullet


@attrs.define
class _Entry:
    lines: list[_Line]
    city: str
    cc: str
    tokens: list[_Tok] = attrs.Factory(list)
    configs: list[Config] = attrs.Factory(lambda: [("S", ())])
    last_accept: tuple[int, Config] | None = None

    def feed(self, toks: list[_Tok], *, force: bool = False) -> bool:
        """Take the tokens of a line; False (and no change unless ``force``) if they do not fit.

        A line whose beginning reads on to a whole event (``2013 – 4 participants, mostly
        chemists``) is taken whole: the entry then reads no further, and the rest of the
        line is reported when the entry closes.
        """
        configs = self.configs
        last = self.last_accept
        for i, t in enumerate(toks):
            # No real entry is this long: past the limit it reads no further (bounded work).
            configs = _advance(configs, t) if len(self.tokens) + i < _MAX_TOKENS else []
            if not configs:
                progressed = last is not None and last[0] > len(self.tokens)
                if force or (progressed and not t.text.lower().startswith("member")):
                    self.configs, self.last_accept = [], last
                    self.tokens += toks
                    return not force
                return False
            acc = next((c for c in configs if c[0] in _ACCEPT), None)
            if acc is not None:
                last = (len(self.tokens) + i + 1, acc)
        self.configs, self.last_accept = configs, last
        self.tokens += toks
        return True


@attrs.define
class _Theme:
    lines: list[_Line]
    text: str
    used: bool = False


@attrs.define
class _Sub:
    """A sub-heading (or the section a summary line opens): kind, title, summary."""

    lines: list[_Line]
    text: str
    kind: str
    title: str | None
    summary: _Summary | None = None
    summary_lines: list[_Line] = attrs.Factory(list)
    entries: int = 0


@attrs.frozen
class _Item:
    """One recognised piece of the listing, from line ``start`` up to (not including) ``end``."""

    what: str  # heading, structure, summary, subheading, plain, entry, junk
    start: int
    end: int
    action: int = 0
    text: str = ""
    kind: tuple[str, str | None] | None = None
    summary: _Summary | None = None
    head_lines: int = 0


@attrs.frozen
class Listing:
    """What :func:`parse_listing` found: the records and problems, and how each line was used."""

    items: tuple[RawRecord | RowProblem, ...]
    """Activity records and problems, in line order."""
    lines: dict[int, str]
    """How every non-blank line was used, by line number: ``"record"`` (an entry, or a
    heading, theme, sub-heading or summary carried by a record; also a line partly in a
    record and partly reported), ``"structure"`` (the action's name or the ``Examples of
    activities`` line) or ``"problem"`` (in a :class:`~clen_core.io.records.RowProblem`)."""
    groups: tuple[RawRecord, ...] = ()
    """The ``project_group`` records the activities name, in line order."""


_NOT_UNDERSTOOD = "not understood: not an entry 'City (CC), dates', a heading or a summary"
_FRAGMENT = "not understood: dates or participants with no entry 'City (CC), ...' before them"


class _Parser:
    def __init__(self, lines: list[_Line], path: str) -> None:
        self.lines = lines
        self.path = path
        self.out: list[RawRecord | RowProblem] = []
        self.use: dict[int, str] = {}
        self.names = {n: _norm_words(name) for n, name in _known_action_names().items()}
        self.action = 0
        self.action_lines: list[_Line] = []
        self.action_used = True
        self.theme: _Theme | None = None
        self.sub: _Sub | None = None
        self.run: list[_Line] = []
        self.seen_ids: dict[str, int] = {}
        self.groups: dict[tuple[int, str], tuple[int, _Summary]] = {}
        """Project groups by (action, theme): the line that first named one, its facts."""

    # ---------------------------------------------------------------- bookkeeping

    def problem(self, line: _Line, reason: str, text: str | None = None) -> None:
        self.out.append(RowProblem(line.no, reason, line.text if text is None else text))
        self.use[line.no] = "problem"

    def problems(self, lines: list[_Line], reason: str) -> None:
        for line in lines:
            self.problem(line, reason)

    def mark(self, lines: list[_Line], how: str) -> None:
        for line in lines:
            if self.use.get(line.no) != "problem" or how == "problem":
                self.use[line.no] = how

    # ---------------------------------------------------------------- the action

    def heading_at(self, i: int) -> tuple[int, int] | None:
        """(action, number of lines) when line ``i`` starts a document heading."""
        m = _HEADING.fullmatch(self.lines[i].bare)
        if m is None:
            return None
        rest = m["rest"]
        words = _norm_words(rest)
        used = 1
        if not rest.strip(" :."):
            pass  # "Action 5" alone
        elif re.match(r"[\-\u2010-\u2015:]", rest):
            if len(rest) > _MAX_HEADING:
                return None  # "Action 5 – name"
        elif words and words == _PHRASE[: len(words)]:
            # "Action 5 of the Customs Laboratories European Network", maybe broken
            j = i + 1
            while len(words) < len(_PHRASE) and j < len(self.lines) and used < 4:
                more = _norm_words(self.lines[j].bare)
                if not more or words + more != _PHRASE[: len(words) + len(more)]:
                    break
                words += more
                used += 1
                j += 1
            if len(words) < 3:
                return None  # "Action 5 of" and no more of the phrase
        elif words[:3] == _PHRASE[:3]:
            # the phrase, then more on the same line (the action's name)
            if len(rest) > 2 * _MAX_HEADING:
                return None
        else:
            return None
        return int(m["n"]), used

    def first_action(self) -> int:
        for i in range(len(self.lines)):
            found = self.heading_at(i)
            if found is not None:
                return found[0]
        for line in self.lines:
            if _INTRO.match(line.bare):
                m = _INTRO_ACTION.search(line.bare)
                if m:
                    return int(m["n"])
        raise FormatError(
            self.path,
            "no 'Action N of the Customs Laboratories European Network' heading found "
            "(nor an 'Examples of activities carried out under Action N' line): "
            "the action of the activities is unknown",
        )

    def is_action_name(self, text: str, action: int) -> bool:
        words = _norm_words(text)
        return bool(words) and words == self.names.get(action)

    def names_action(self, text: str, action: int) -> bool:
        """Whether the line after a heading is the action's name, exactly or nearly
        (``Scientific Expertise and Support`` for ``Scientific expertise``)."""
        words, known = _norm_words(text), self.names.get(action, [])
        if not words or not known or not _heading_like(text) or _kind_of(text):
            return False
        shared = len(set(words) & set(known))
        return words == known or (2 * shared >= len(known) and len(words) <= len(known) + 3)

    # ---------------------------------------------------------------- classifying lines

    def is_entry_start(self, line: _Line) -> bool:
        m = _PLACE.match(line.bare)
        if m is None:
            return False
        if m["cc"].upper() in country.ACCEPTED_CODES:
            return True
        # An unknown code starts an entry only when dates follow ("Atlantis (QQ), 3 May").
        return re.match(r"\s*[,\-\u2013]?\s*\d", line.bare[m.end() :]) is not None

    def classify(self, i: int) -> _Item:
        """What line ``i`` starts (without changing any state)."""
        line = self.lines[i]
        bare = line.bare
        n = len(self.lines)
        heading = self.heading_at(i)
        if heading is not None:
            action, used = heading
            j = i + used
            # The action's name on the next line: the known name, or any heading before an intro.
            if j < n:
                name = self.lines[j].bare
                intro_next = j + 1 < n and _INTRO.match(self.lines[j + 1].bare) is not None
                if self.names_action(name, action) or (intro_next and _heading_like(name)):
                    j += 1
            return _Item("heading", i, j, action=action, head_lines=used)
        if _INTRO.match(bare):
            j, text = i + 1, bare
            while (
                not text.endswith(":")
                and j < n
                and j < i + 3
                and _INTRO_END.fullmatch(self.lines[j].bare)
            ):
                text += " " + self.lines[j].bare
                j += 1
            return _Item("structure", i, j)
        if self.is_action_name(bare, self.action):
            return _Item("structure", i, i + 1)
        summary = self.summary_at(i)
        if summary is not None:
            return _Item("summary", i, summary[1], summary=summary[0])
        if self.is_entry_start(line):
            return _Item("entry", i, i + 1)
        if _heading_like(bare):
            kind = _kind_of(bare)
            if kind is None:
                return _Item("plain", i, i + 1, text=bare)
            return self.subheading_at(i, kind)
        return _Item("junk", i, i + 1, text=_FRAGMENT if _is_fragment(bare) else _NOT_UNDERSTOOD)

    def summary_at(self, i: int) -> tuple[_Summary, int] | None:
        text = self.lines[i].bare
        if _parse_summary(text) is None and not _SUMMARY_START.fullmatch(text):
            return None
        j = i + 1
        while j < len(self.lines) and j < i + 3:
            joined = text + " " + self.lines[j].bare
            if _parse_summary(joined) is None:
                break
            text = joined
            j += 1
        found = _parse_summary(text)
        return (found, j) if found is not None else None

    def subheading_at(self, i: int, kind: tuple[str, str | None]) -> _Item:
        text = self.lines[i].bare
        m = _INLINE_SUMMARY.fullmatch(text)
        if m and m["head"] and _kind_of(m["head"]):
            summary, j = m["sum"], i + 1
            while j < len(self.lines) and j < i + 3:
                more = summary + " " + self.lines[j].bare
                if _parse_summary(more) is None:
                    break
                summary, j = more, j + 1
            found = _parse_summary(summary.strip(" )"))
            if found is not None:
                head = m["head"].strip(" :;,(-\u2013\u2014")
                return _Item("subheading", i, j, text=head, kind=_kind_of(head), summary=found)
        return _Item("subheading", i, i + 1, text=text, kind=kind)

    # ---------------------------------------------------------------- the pass

    def parse(self) -> Listing:
        self.action = self.first_action()
        entry: _Entry | None = None
        i = 0
        while i < len(self.lines):
            line = self.lines[i]
            continues = entry is not None and not self.is_entry_start(line)
            if continues and entry is not None and entry.feed(_tokens(line.text, line.no)):
                entry.lines.append(line)
                i += 1
                continue
            item = self.classify(i)
            if item.what == "junk":
                # Stray lines are reported and otherwise ignored: an open entry stays open.
                self.problem(line, item.text)
                i = item.end
                continue
            if entry is not None:
                self.close_entry(entry)
                entry = None
            if item.what == "entry":
                entry = self.open_entry(line)
            else:
                self.handle(item)
            i = item.end
        if entry is not None:
            self.close_entry(entry)
        self.flush_run(None)
        self.end_sub()
        self.end_theme()
        self.end_action()
        return Listing(
            tuple(sorted(self.out, key=lambda r: r.row)),
            dict(sorted(self.use.items())),
            self.group_records(),
        )

    def handle(self, item: _Item) -> None:
        lines = self.lines[item.start : item.end]
        if item.what == "heading":
            self.flush_run(None)
            self.end_sub()
            self.end_theme()
            self.end_action()
            self.action = item.action
            self.action_lines = lines[: item.head_lines]
            self.action_used = False
            self.mark(lines[item.head_lines :], "structure")
        elif item.what == "structure":
            self.flush_run(None)
            self.mark(lines, "structure")
        elif item.what == "summary":
            assert item.summary is not None
            self.flush_run("summary")
            if self.sub is None or self.sub.entries:
                self.end_sub()
                # A summary names a project group: the entries under it are its meetings.
                self.sub = _Sub([], "", "project_group_meeting", None)
            known = self.sub.summary
            self.sub.summary = item.summary if known is None else known.fill(item.summary)
            self.sub.summary_lines += lines
        elif item.what == "subheading":
            assert item.kind is not None
            self.flush_run("subheading")
            self.end_sub()
            self.sub = _Sub(lines, item.text, item.kind[0], item.kind[1], item.summary)
        else:  # plain
            self.run.append(lines[0])

    # ---------------------------------------------------------------- runs of plain lines

    def flush_run(self, before: str | None) -> None:
        """Decide what the pending plain lines are, now that ``before`` follows them:
        ``"subheading"``, ``"summary"``, ``"entry"`` or None (anything else)."""
        run, self.run = self.run, []
        if not run:
            return
        sub = self.sub
        if before == "entry" and sub is not None and not sub.entries and sub.lines:
            # More words of the sub-heading: a title broken over lines.
            sub.lines += run
            sub.text = " ".join([sub.text, *(x.bare for x in run)])
            kind = _kind_of(sub.text)
            if kind is not None:
                sub.title = kind[1]
            return
        if before in ("subheading", "summary") or (before == "entry" and self.theme is None):
            # A theme is short: the last lines of the run, up to _MAX_THEME characters.
            k = len(run) - 1
            while k > 0 and sum(len(x.bare) + 1 for x in run[k - 1 :]) <= _MAX_THEME:
                k -= 1
            head, theme = run[:k], run[k:]
            self.problems(head, "not understood: text before a theme heading")
            self.end_sub()
            self.end_theme()
            text = " ".join(x.bare for x in theme).strip(" :;,-\u2013\u2014")
            self.theme = _Theme(theme, text)
            return
        if before == "entry":
            reason = (
                "not understood: plain text between the entries of a section, followed by no "
                "sub-heading (a theme? its entries were read under the theme above)"
            )
        else:
            reason = "not understood: text with no event under it"
        self.problems(run, reason)

    # ---------------------------------------------------------------- ends of sections

    def end_sub(self) -> None:
        sub, self.sub = self.sub, None
        if sub is not None and not sub.entries:
            self.problems(sub.lines, "sub-heading with no event under it")
            self.problems(sub.summary_lines, "project-group summary with no event under it")

    def end_theme(self) -> None:
        theme, self.theme = self.theme, None
        if theme is not None and not theme.used:
            self.problems(theme.lines, "theme heading with no event under it")

    def end_action(self) -> None:
        if not self.action_used:
            self.problems(self.action_lines, "action heading with no event under it")
        self.action_used = True

    # ---------------------------------------------------------------- entries

    def open_entry(self, line: _Line) -> _Entry:
        self.flush_run("entry")
        m = _PLACE.match(line.bare)
        assert m is not None
        offset = len(line.text) - len(line.bare) + m.end()
        entry = _Entry([line], _clean(m["city"]), m["cc"])
        entry.feed(_tokens(line.bare[m.end() :], line.no, offset), force=True)
        return entry

    def close_entry(self, entry: _Entry) -> None:
        first = entry.lines[0]
        final = next((c for c in entry.configs if c[0] in _ACCEPT), None) or next(
            (c for c in entry.configs if c[0] in _ACCEPT_AT_CLOSE), None
        )
        taken = len(entry.tokens)
        if final is None and entry.last_accept is not None:
            taken, final = entry.last_accept
        if final is None:
            self.out.append(
                RowProblem(first.no, "entry not understood: " + self.why(entry), _text(entry.lines))
            )
            self.mark(entry.lines, "problem")
            return
        if taken == len(entry.tokens):
            self.record(entry, final, entry.lines)
            return
        # The event reads up to token ``taken``: keep it, and report the rest.
        rest = entry.tokens[taken]
        at = next(x for x in entry.lines if x.no == rest.line)
        whole = rest.col <= len(at.text) - len(at.bare)  # the line has nothing of the event
        self.record(
            entry, final, [x for x in entry.lines if x.no < at.no or (x is at and not whole)]
        )
        text = " ".join([at.text[rest.col :], *(x.text for x in entry.lines if x.no > at.no)])
        self.out.append(RowProblem(rest.line, "not understood: text after the event's dates", text))
        self.mark([x for x in entry.lines if x.no > at.no or (x is at and whole)], "problem")

    def why(self, entry: _Entry) -> str:
        if not entry.tokens:
            return "a place with no dates"
        if not entry.configs:
            bad = next((t.text for t in entry.tokens if t.kind == "other"), entry.tokens[-1].text)
            return f"expected dates such as '3-4 March 2016' after the place, found {bad!r}"
        return "it ends before the dates do (a year is missing?)"

    def record(self, entry: _Entry, final: Config, lines: list[_Line]) -> None:
        first = entry.lines[0]
        dates, first_implied = _dates(final[1])
        bad = next((f"{d} {_MONTH_NAMES[m - 1]} {y}" for y, m, d in dates if not _ok(y, m, d)), "")
        if bad:
            self.out.append(RowProblem(first.no, f"no such day: {bad}", _text(entry.lines)))
            self.mark(entry.lines, "problem")
            return
        days = [dt.date(y, m, d) for y, m, d in dates]
        start, end = days[0], days[-1]
        if first_implied and start > end and _ok(start.year - 1, start.month, start.day):
            start = start.replace(year=start.year - 1)  # 30 December - 2 January 2016
        try:
            cc = country.parse(entry.cc)
        except CodeError:
            cc = entry.cc.upper()  # kept: the entity's check rejects it, naming the field
        sub, theme = self.sub, self.theme
        notes = []
        if final[0] == "T":  # the participants' word and what follows it on its line
            where = dict(final[1])
            at = next(x for x in entry.lines if x.no == where["wl"])
            notes.append(at.text[where["wc"] :])
        if theme is not None:
            theme_text: str | None = theme.text
        elif sub is not None:  # no theme heading: the sub-heading says what it is about
            theme_text = sub.title or sub.text or None
        else:
            theme_text = None
        values: dict[str, Any] = {
            "action": self.action,
            "kind": sub.kind if sub is not None else "other",
            "theme": theme_text,
            "title": sub.title if sub is not None else None,
            "city": entry.city,
            "country": cc,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "participants": next((v for w, v in final[1] if w == "p"), None),
            "project_group_id": self.group_of(sub, theme_text),
            "notes": "; ".join(notes) or None,
        }
        values = {"activity_id": self.activity_id(values), **values}
        self.out.append(RawRecord(first.no, {k: v for k, v in values.items() if v is not None}))
        self.mark(lines, "record")
        if theme is not None:
            theme.used = True
            self.mark(theme.lines, "record")
        if sub is not None:
            sub.entries += 1
            self.mark(sub.lines + sub.summary_lines, "record")
        self.action_used = True
        self.mark(self.action_lines, "record")

    def group_of(self, sub: _Sub | None, theme: str | None) -> str | None:
        """The ID of the project group whose meetings the entries of ``sub`` are, if any.

        Project-group meetings, and entries under a summary line, meet in the project group
        of their theme: one group per action and theme, its facts from its summary lines.
        """
        if sub is None or not theme or (sub.kind != "project_group_meeting" and not sub.summary):
            return None
        key = (self.action, theme)
        summary = sub.summary or _Summary()
        first = (sub.lines or sub.summary_lines)[0].no
        if key not in self.groups:
            self.groups[key] = (first, summary)
        elif sub.entries == 0 and sub.summary is not None:  # a later section of the group
            row, known = self.groups[key]
            clash = any(known.facts().get(k, v) != v for k, v in summary.facts().items())
            if clash:
                where = sub.summary_lines[0]
                self.problem(
                    where,
                    f"project-group summary differs from the one before (line {row}) for "
                    "the same theme: the first is kept",
                    _text(sub.summary_lines),
                )
            else:
                self.groups[key] = (row, known.fill(summary))
        return self.group_id(*key)

    @staticmethod
    def group_id(action: int, theme: str) -> str:
        import hashlib

        return f"L{action}-PG-{hashlib.sha256(theme.encode()).hexdigest()[:8]}"

    def group_records(self) -> tuple[RawRecord, ...]:
        return tuple(
            RawRecord(
                row,
                {
                    "group_id": self.group_id(action, theme),
                    "action": action,
                    "theme": theme,
                    **summary.facts(),
                },
            )
            for (action, theme), (row, summary) in sorted(
                self.groups.items(), key=lambda kv: kv[1][0]
            )
        )

    def activity_id(self, values: dict[str, Any]) -> str:
        import hashlib  # here: loading OpenSSL is 5 ms of every command's start

        key = "|".join(str(values[k] or "") for k in ("theme", "kind", "city", "country", "start"))
        base = f"L{values['action']}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"
        count = self.seen_ids.get(base, 0) + 1
        self.seen_ids[base] = count
        return base if count == 1 else f"{base}-{count}"


def _text(lines: list[_Line]) -> str:
    return " ".join(x.text for x in lines)


def _ok(y: int, m: int, d: int) -> bool:
    try:
        dt.date(y, m, d)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- reading


_LINE_END = _Lazy(r"\r\n|\r|\n")


def _lines(text: str, max_line: int) -> list[_Line]:
    out = []
    for no, raw in enumerate(_LINE_END.split(text), start=1):
        if len(raw) > max_line:  # not cleaned nor tokenised: kept for its problem only
            out.append(_Line(no, raw, raw))
            continue
        cleaned = _clean(raw)
        if cleaned:
            out.append(_Line(no, cleaned, _unbullet(cleaned)))
    return out


def _decode(data: bytes, path: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1
        raise FormatError(path, "not valid UTF-8 text", row=row) from None


def parse_listing(text: str, path: str = "<listing>") -> Listing:
    """Parse the text of a listing: records (``json`` flavour values) and problems.

    Raises :class:`~clen_core.io.formats.FormatError` when the action cannot be told.
    A line longer than ``max_field_bytes`` characters (:mod:`clen_core.limits`) is
    reported as a problem and not parsed (no listing line is that long).
    """
    max_line = limits.current().max_field_bytes
    lines = _lines(text, max_line)
    long = [x for x in lines if len(x.text) > max_line]
    if not long:
        return _Parser(lines, path).parse()
    found = _Parser([x for x in lines if len(x.text) <= max_line], path).parse()
    reason = f"not understood: a line longer than {max_line:,} characters (max_field_bytes)"
    problems = [RowProblem(x.no, reason, x.text[:200] + "…") for x in long]
    items = sorted([*found.items, *problems], key=lambda r: r.row)
    return Listing(
        tuple(items),
        dict(sorted({**found.lines, **{x.no: "problem" for x in long}}.items())),
        found.groups,
    )


_ENTITIES = ("activity", "project_group")


def _parse_source(source: IO[bytes], path: str) -> Listing:
    most = limits.current().max_listing_bytes
    data = source.read(most + 1)
    if len(data) > most:
        raise FormatError(
            path, f"larger than {most:,} bytes (max_listing_bytes): a listing is read whole"
        )
    return parse_listing(_decode(data, path), path)


def read_listing(
    source: IO[bytes], info: EntityInfo, path: str
) -> Iterator[RawRecord | RowProblem]:
    """The ``activity`` (or ``project_group``) records of a listing, and a problem for every
    line not understood (the listing's problems, whichever of the two is read)."""
    if info.name not in _ENTITIES:
        raise FormatError(
            path,
            f"a listing holds activities only (and the project groups they meet in), not "
            f"{info.name}: read it as entity activity or project_group",
        )
    listing = _parse_source(source, path)
    if info.name == "activity":
        yield from listing.items
        return
    items: list[RawRecord | RowProblem] = list(listing.groups)
    items += [x for x in listing.items if isinstance(x, RowProblem)]
    yield from sorted(items, key=lambda r: r.row)


def read_listing_dataset(
    source: IO[bytes], path: str
) -> Iterator[tuple[str, RawRecord | RowProblem]]:
    """The project groups of a listing, then its activities and problems: ``(entity, item)``."""
    listing = _parse_source(source, path)
    for group in listing.groups:
        yield "project_group", group
    for item in listing.items:
        yield "activity", item


# --------------------------------------------------------------------------- detection

_DETECT_HEADING = _Lazy(r"Action\s+\d+\s+of\s+the\s+Customs\s+Laboratories", re.IGNORECASE)
_DETECT_ENTRY = _Lazy(
    rf"^\W*{_LETTER}[^\W\d_ .'’\-/]*(?:[ .'’\-/]{{1,3}}{_LETTER}+){{0,7}}\.?\s*"
    r"\(\s*[A-Z]{2}\s*\)\s*[,\-\u2013]?\s*\d{1,2}",
    re.MULTILINE,
)


def detect_listing(head: bytes) -> bool:
    """Whether ``head`` (a file's first bytes) looks like a Commission activity listing."""
    text = head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="ignore")
    text = _INVISIBLE.sub("", text)
    if _DETECT_HEADING.search(_SPACES.sub(" ", text)):
        return True
    return len(_DETECT_ENTRY.findall(text)) >= 2


@hookimpl
def clen_detect_format(path: str, head: bytes) -> str | None:
    """``"listing"`` for a ``.txt`` or extension-less file that looks like a listing."""
    suffix = PurePath(path).suffix.lower()
    if suffix not in ("", ".txt"):
        return None
    return "listing" if detect_listing(head) else None


@hookimpl
def clen_register_formats(register: Callable[[Format], None]) -> None:
    """Register the ``listing`` format (read only)."""
    register(
        Format(
            name="listing",
            extensions=(),
            description=(
                "Commission activity listing (text from PDF) read into activity and "
                "project-group records; read only, detected for .txt files"
            ),
            flavour="json",
            read=read_listing,
            read_dataset=read_listing_dataset,
        )
    )
