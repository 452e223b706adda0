"""The built-in rules, vectorised over Arrow.

Each rule is a function of the validation :class:`~clen_core.rules.Context`;
its ID, severity and description are its registration. Code-system look-ups
(the HS nomenclature, CUS check digits) run once per distinct value.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from clen_core.codes import country, cus, hs
from clen_core.codes._vector import cus_check_digit_mask, false_if_null
from clen_core.errors import ArgumentError
from clen_core.model.compliance import DEFAULT_RULE, DecisionRule, decide_arrays
from clen_core.model.entity import EntityInfo, get_entity
from clen_core.model.fields import ListShape, ScalarShape
from clen_core.rules.context import Context
from clen_core.rules.registry import rule
from clen_core.rules.report import READ_RULE, Severity
from clen_core.schema.arrow import int_range

__all__: list[str] = []

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

LONG_ACTIVITY_DAYS = 31
"""An activity longer than this many days is flagged by ACT-002."""
MIN_PT_RESULTS = 8
"""A PT study with fewer results is flagged by PT-001 (robust statistics need numbers)."""
_TARIFF_CODES = ("cn", "taric", "hs")


@cache
def _eu() -> pa.Array:
    return pa.array(sorted(country.EU_MEMBER_STATES))


@cache
def _hs_subheadings() -> pa.Array:
    return pa.array(sorted(hs.subheadings()))


def _is_in(values: pa.ChunkedArray | pa.Array, value_set: pa.Array) -> pa.Array:
    return pc.is_in(values, value_set=value_set)


def _not_in(values: pa.ChunkedArray | pa.Array, value_set: pa.Array) -> pa.Array:
    # A missing value is not "outside" anything: only present values are flagged.
    return pc.and_(pc.is_valid(values), pc.invert(pc.is_in(values, value_set=value_set)))


def _is(column: pa.ChunkedArray | pa.Array, value: str) -> pa.ChunkedArray | pa.Array:
    """``column == value`` (null where null), compared once per distinct value of an enum.

    Enum columns are dictionary-encoded: comparing the dictionary and taking the
    answers by the indices spares decoding every row (10 ms a million rows).
    """
    if not pa.types.is_dictionary(column.type):
        return pc.equal(column, value)
    if isinstance(column, pa.ChunkedArray):
        return pa.chunked_array([_is(c, value) for c in column.chunks], pa.bool_())
    hits = pc.equal(column.dictionary, value)
    where = pc.indices_nonzero(hits)
    if len(where) > 1 or column.dictionary.null_count:
        return pc.take(hits, column.indices)  # a dictionary with repeats, or a null entry
    # The value's one place in the dictionary (or none, -1): the indices compared with it,
    # half the time of taking the answers by them.
    return pc.equal(column.indices, where[0].as_py() if len(where) else -1)


def _entries(column: pa.ChunkedArray) -> pa.Array:
    # Map kernels are few: view a map as the list of its (key, value) structs.
    t = column.type
    entry = pa.struct([("key", t.key_type), ("value", t.item_type)])
    return pc.cast(column, pa.list_(entry)).combine_chunks()


def _differs(a: pa.ChunkedArray | pa.Array, b: pa.ChunkedArray | pa.Array) -> pa.Array:
    # Null on either side means "nothing to compare": not a finding.
    return pc.and_kleene(pc.not_equal(a, b), pc.and_(pc.is_valid(a), pc.is_valid(b)))


# --------------------------------------------------------------------------- any entity


def _tariff_fields_of(info: EntityInfo) -> list[str]:
    return [
        f.name
        for f in info.fields
        if isinstance(f.shape, ScalarShape) and f.spec.code in _TARIFF_CODES
    ]


def _references_read(info: EntityInfo) -> list[str]:
    # The reference columns, and the key when a reference points to the entity itself.
    names = [f.name for f in info.references]
    if any(f.spec.ref == info.name for f in info.references):
        names += info.key
    return names


@rule(
    READ_RULE, ERROR, None, "A row does not fit its entity (type, invariant, unreadable).", reads=()
)
def rejected_rows(ctx: Context) -> None:
    """Reported by the readers, not computed here: a row that does not fit never becomes a
    record, so tables hold none. Registered for its stable ID and its line in the docs."""


def _all_distinct(keys: pa.ChunkedArray | pa.Array) -> bool:
    """Whether no two of ``keys`` are equal (two nulls count as equal, as in a grouping)."""
    if keys.null_count > 1:
        return False
    values = keys.drop_null() if keys.null_count else keys
    if len(values) < 2:
        return True
    # Files are often written in key order: one comparison of neighbours, no hash table
    # (a million distinct keys: 5 ms against 0.3 s).
    if pc.all(pc.less(values[:-1], values[1:])).as_py():
        return True
    # unique hashes as count_distinct does, in a third of its time (110 ms a million keys).
    return len(pc.unique(values)) == len(values)


@rule(
    "DUP-001",
    ERROR,
    None,
    "Two or more records of an entity share a key.",
    reads=lambda info: info.key,
)
def duplicate_keys(ctx: Context) -> None:
    for name in ctx.entities:
        info = get_entity(name)
        table = ctx.table(name)
        if table.num_rows < 2:
            continue
        if len(info.key) == 1 and _all_distinct(table.column(info.key[0])):
            continue  # the usual case needs no grouping
        positions = int_range(0, table.num_rows)
        keyed = table.select(list(info.key)).append_column("_pos", positions)
        first = keyed.group_by(list(info.key), use_threads=False).aggregate([("_pos", "min")])
        repeat = pc.invert(_is_in(positions, first.column("_pos_min").combine_chunks()))
        field = info.key[0] if len(info.key) == 1 else None
        ctx.flag(
            name,
            repeat,
            field,
            f"duplicate {'/'.join(info.key)}: an earlier record has the same key",
        )


@rule(
    "REF-001",
    ERROR,
    None,
    "A reference names a record that is not in the dataset.",
    reads=_references_read,
)
def missing_references(ctx: Context) -> None:
    for name in ctx.entities:
        for f in get_entity(name).references:
            target = f.spec.ref
            assert target is not None
            if not ctx.has(target) or len(get_entity(target).key) != 1:
                continue  # only checked when the referenced entity is part of the validation
            keys = ctx.column(target, get_entity(target).key[0]).combine_chunks()
            column = ctx.column(name, f.name).combine_chunks()
            message = f"no {target} with this key in the dataset"
            if isinstance(f.shape, ListShape):
                items = pc.list_flatten(column)
                parents = pc.list_parent_indices(column)
                missing = _not_in(items, keys)
                ctx.flag_rows(
                    name, pc.filter(parents, missing), f.name, message, pc.filter(items, missing)
                )
            else:
                ctx.flag(name, _not_in(column, keys), f.name, message)


@rule(
    "CN-001",
    WARNING,
    None,
    "A CN/TARIC code is in chapter 98 or 99 (special coding system).",
    reads=_tariff_fields_of,
    rowwise=True,
)
def special_chapters(ctx: Context) -> None:
    for name, field in _tariff_fields(ctx):
        chapters = pc.utf8_slice_codeunits(ctx.column(name, field), 0, 2)
        mask = _is_in(chapters, pa.array(sorted(hs.SPECIAL_CHAPTERS)))
        ctx.flag(name, mask, field, "chapter 98/99: special coding system, not goods")


@rule(
    "CN-002",
    WARNING,
    None,
    "A code's HS subheading is not in the HS 2022 nomenclature.",
    reads=_tariff_fields_of,
    rowwise=True,
)
def not_in_nomenclature(ctx: Context) -> None:
    special = pa.array(sorted(hs.SPECIAL_CHAPTERS))
    for name, field in _tariff_fields(ctx):
        column = ctx.column(name, field)
        sub = pc.utf8_slice_codeunits(column, 0, 6)
        regular = pc.invert(_is_in(pc.utf8_slice_codeunits(column, 0, 2), special))
        mask = pc.and_(_not_in(sub, _hs_subheadings()), regular)
        ctx.flag(
            name,
            mask,
            field,
            lambda v: f"HS subheading {v[:6]} is not in {hs.NOMENCLATURE_EDITION}",
        )


def _tariff_fields(ctx: Context) -> list[tuple[str, str]]:
    # Derived from the declarations, so plugin entities with CN fields are covered too.
    return [
        (name, f.name)
        for name in ctx.entities
        for f in get_entity(name).fields
        if isinstance(f.shape, ScalarShape) and f.spec.code in _TARIFF_CODES
    ]


# --------------------------------------------------------------------------- activities


@cache
def _may_be_meant_otherwise() -> tuple[pa.Array, pa.Array]:
    # The country codes and the cities for which country.did_you_mean can have an answer.
    return (
        pa.array(sorted(country.LANGUAGE_CODE_CONFUSIONS)),
        pa.array(sorted(country.CITY_COUNTRIES)),
    )


@rule(
    "ACT-001",
    WARNING,
    "activity",
    "An activity was held outside the EU Member States.",
    reads=("country", "city"),
    rowwise=True,
)
def activity_outside_eu(ctx: Context) -> None:
    """The message asks ``did you mean EE (Estonia)?`` when the source plausibly meant a
    Member State (``Tartu (ET)``): :func:`clen_core.codes.country.did_you_mean`."""
    column = ctx.column("activity", "country")
    city = ctx.column("activity", "city")
    outside = false_if_null(_not_in(column, _eu()))
    codes, cities = _may_be_meant_otherwise()
    maybe = pc.and_(outside, pc.or_(_is_in(column, codes), _is_in(city, cities)))
    cases: list[tuple[Any, str | None, str | Callable[[Any], str]]] = [
        (pc.and_(outside, pc.invert(maybe)), "country", lambda v: f"{v} is not an EU Member State")
    ]
    # Rare rows: each asked about on its own, a case per message; reported in row order.
    rows = pc.indices_nonzero(false_if_null(maybe))
    groups: dict[str, list[int]] = {}
    pairs = zip(pc.take(column, rows).to_pylist(), pc.take(city, rows).to_pylist(), strict=True)
    for i, (code, place) in zip(rows.to_pylist(), pairs, strict=True):
        hint = country.did_you_mean(code, place)
        text = f"{code} is not an EU Member State" + (f": {hint}" if hint else "")
        groups.setdefault(text, []).append(i)
    positions = int_range(0, len(column))
    for text, indices in groups.items():
        cases.append((_is_in(positions, pa.array(indices, pa.int64())), "country", text))
    ctx.flag_each("activity", cases)


@rule(
    "ACT-002",
    WARNING,
    "activity",
    f"An activity lasts more than {LONG_ACTIVITY_DAYS} days.",
    reads=("start", "end"),
    rowwise=True,
)
def activity_too_long(ctx: Context) -> None:
    # Both the first and the last day count: a one-day event has end == start.
    days = pc.add(
        pc.days_between(ctx.column("activity", "start"), ctx.column("activity", "end")), 1
    )
    ctx.flag(
        "activity",
        pc.greater(days, LONG_ACTIVITY_DAYS),
        "end",
        f"lasts more than {LONG_ACTIVITY_DAYS} days: check the dates",
    )


@rule(
    "ACT-003",
    INFO,
    "activity",
    "A project-group meeting names no project group.",
    reads=("kind", "project_group_id"),
    rowwise=True,
)
def meeting_without_group(ctx: Context) -> None:
    mask = pc.and_(
        _is(ctx.column("activity", "kind"), "project_group_meeting"),
        pc.is_null(ctx.column("activity", "project_group_id")),
    )
    ctx.flag("activity", mask, "project_group_id", "project-group meeting without a project group")


@rule(
    "ACT-004",
    WARNING,
    "activity",
    "An activity's project group belongs to another action.",
    reads={"activity": ("project_group_id", "action"), "project_group": ("action",)},
    rowwise=True,
)
def group_of_other_action(ctx: Context) -> None:
    if not ctx.has("project_group"):
        return
    group_action = ctx.lookup("project_group", ctx.column("activity", "project_group_id"), "action")
    ctx.flag(
        "activity",
        _differs(ctx.column("activity", "action"), group_action),
        "action",
        "differs from the action of its project group",
    )


# --------------------------------------------------------------------------- laboratories


@rule(
    "LAB-001",
    WARNING,
    "laboratory",
    "A third-country lab has unmet or unrecorded criteria.",
    reads=("status", "participation_criteria"),
    rowwise=True,
)
def third_country_criteria(ctx: Context) -> None:
    table = ctx.table("laboratory")
    criteria = _entries(table.column("participation_criteria"))
    third = _is(table.column("status"), "third_country")
    empty = pc.equal(pc.list_value_length(criteria), 0)
    entries = pc.list_flatten(criteria)
    unmet_rows = pc.unique(
        pc.filter(pc.list_parent_indices(criteria), pc.invert(entries.field("value")))
    )
    positions = int_range(0, table.num_rows)
    unmet = _is_in(positions, pc.cast(unmet_rows, pa.int64()))
    ctx.flag(
        "laboratory",
        pc.and_(third, pc.or_(empty, unmet)),
        "participation_criteria",
        "third-country lab without every participation criterion recorded as met",
    )


@rule(
    "LAB-002",
    WARNING,
    "laboratory",
    "A member laboratory is outside the EU Member States.",
    reads=("status", "country"),
    rowwise=True,
)
def member_lab_outside_eu(ctx: Context) -> None:
    table = ctx.table("laboratory")
    member = _is(table.column("status"), "member")
    outside = _not_in(table.column("country"), _eu())
    ctx.flag(
        "laboratory",
        pc.and_(member, outside),
        "country",
        lambda v: f"member lab in {v}, not an EU Member State",
    )


@rule(
    "LAB-003",
    INFO,
    "laboratory",
    "Participation criteria are recorded for a non-third-country lab.",
    reads=("status", "participation_criteria"),
    rowwise=True,
)
def criteria_for_member(ctx: Context) -> None:
    table = ctx.table("laboratory")
    other = pc.invert(_is(table.column("status"), "third_country"))
    has = pc.greater(pc.list_value_length(_entries(table.column("participation_criteria"))), 0)
    ctx.flag(
        "laboratory",
        pc.and_(other, has),
        "participation_criteria",
        "criteria only apply to third-country labs",
    )


# --------------------------------------------------------------------------- substances


@rule(
    "SUB-001",
    WARNING,
    "substance",
    "A CUS number's check digit does not follow the CAS rule.",
    reads=("cus",),
    rowwise=True,
)
def cus_check_digit(ctx: Context) -> None:
    column = ctx.column("substance", "cus")
    distinct = pc.unique(column).cast(pa.string())
    # Canonical numbers vectorised (one per row when all differ); any other, per value.
    matches = cus_check_digit_mask(distinct)
    unsure = pc.filter(distinct, pc.is_null(matches)).to_pylist()
    bad = pa.concat_arrays(
        [
            pc.filter(distinct, pc.invert(pc.fill_null(matches, True))),
            pa.array([c for c in unsure if not cus.check_digit_matches(c)], pa.string()),
        ]
    )
    ctx.flag(
        "substance",
        _is_in(column, bad),
        "cus",
        "check digit differs from the CAS-style check digit (no published rule: verify)",
    )


@rule(
    "SUB-002",
    INFO,
    "substance",
    "A substance has neither a CAS RN nor an EC number.",
    reads=("cas", "ec"),
    rowwise=True,
)
def substance_without_ids(ctx: Context) -> None:
    mask = pc.and_(
        pc.is_null(ctx.column("substance", "cas")), pc.is_null(ctx.column("substance", "ec"))
    )
    ctx.flag("substance", mask, None, "no CAS RN and no EC number")


# --------------------------------------------------------------------------- results


@rule(
    "RES-001",
    WARNING,
    "analysis_result",
    "The CN code found differs from the one declared.",
    reads={"analysis_result": ("sample_id", "cn_found"), "sample": ("declared_cn",)},
    rowwise=True,
)
def cn_found_differs(ctx: Context) -> None:
    if not ctx.has("sample"):
        return
    declared = ctx.lookup("sample", ctx.column("analysis_result", "sample_id"), "declared_cn")
    found = ctx.column("analysis_result", "cn_found")
    ctx.flag(
        "analysis_result",
        _differs(found, declared),
        "cn_found",
        "differs from the CN code declared for the sample",
    )


@rule(
    "RES-002",
    INFO,
    "analysis_result",
    "A result's analyte is not its method's analyte.",
    reads={"analysis_result": ("method_id", "analyte"), "method": ("analyte",)},
    rowwise=True,
)
def analyte_differs(ctx: Context) -> None:
    if not ctx.has("method"):
        return
    expected = ctx.lookup("method", ctx.column("analysis_result", "method_id"), "analyte")
    found = ctx.column("analysis_result", "analyte")
    ctx.flag(
        "analysis_result",
        _differs(pc.utf8_lower(found), pc.utf8_lower(expected)),
        "analyte",
        "differs from the analyte of the method used",
    )


@rule(
    "RES-003",
    WARNING,
    "analysis_result",
    "A result was obtained with a withdrawn method.",
    reads={"analysis_result": ("method_id",), "method": ("status",)},
    rowwise=True,
)
def withdrawn_method(ctx: Context) -> None:
    if not ctx.has("method"):
        return
    status = ctx.lookup("method", ctx.column("analysis_result", "method_id"), "status")
    ctx.flag(
        "analysis_result",
        _is(status, "withdrawn"),
        "method_id",
        "method is withdrawn",
    )


def _result_limits(
    table: pa.Table,
) -> tuple[pa.ChunkedArray, pa.ChunkedArray, pa.ChunkedArray]:
    """(upper, lower, consistent) of results: as ``AnalysisResult.limits`` reads them."""
    kind, limit = table.column("limit_type"), table.column("limit")
    high = table.column("limit_high")
    two, upper_only = _is(kind, "two_sided"), _is(kind, "upper")
    no_limit = pa.scalar(None, pa.float64())
    upper = pc.if_else(upper_only, limit, pc.if_else(two, high, no_limit))
    lower = pc.if_else(pc.or_(_is(kind, "lower"), two), limit, no_limit)
    # A two-sided limit has its upper end in limit_high, not below its lower end; a one-sided
    # limit has none.
    consistent = pc.and_(
        pc.equal(false_if_null(two), pc.is_valid(high)),
        pc.invert(false_if_null(pc.less(high, limit))),
    )
    return upper, lower, consistent


def _needs_uncertainty(codes: pa.ChunkedArray) -> pa.Array:
    """Per result: whether its decision rule (null: the default) needs an uncertainty."""
    encoded = pc.dictionary_encode(codes.combine_chunks())
    needs = [_rule_needs_uncertainty(c) for c in encoded.dictionary.to_pylist()]
    needs.append(DEFAULT_RULE.needs_uncertainty)
    return pc.take(pa.array(needs, pa.bool_()), pc.fill_null(encoded.indices, len(needs) - 1))


def _rule_needs_uncertainty(code: str) -> bool:
    try:
        return DecisionRule.parse(code).needs_uncertainty
    except ArgumentError:  # as the pattern says, but no usable number (α rounding to 0)
        return False


_RES004_MESSAGES = {
    ("non_compliant", "fail"): "non-compliant (fail): beyond the limit by the guard band or more",
    ("non_compliant", "conditional_fail"): (
        "non-compliant (conditional fail): beyond the limit, within the guard band"
    ),
    ("non_compliant", "conditional_pass"): (
        "non-compliant (conditional pass): within the limit, but not by the guard band "
        "its acceptance-side rule asks for"
    ),
    ("inconclusive", "conditional_pass"): (
        "inconclusive (conditional pass): within the limit, inside the guard band"
    ),
    ("inconclusive", "conditional_fail"): (
        "inconclusive (conditional fail): beyond the limit, inside the guard band"
    ),
}


@rule(
    "RES-004",
    INFO,
    "analysis_result",
    "A result is non-compliant or inconclusive under its decision rule.",
    reads=(
        "value",
        "limit",
        "limit_type",
        "limit_high",
        "expanded_uncertainty",
        "coverage_factor",
        "decision_rule",
        "less_than",
    ),
    rowwise=True,
)
def not_compliant(ctx: Context) -> None:
    """The decision is ``AnalysisResult.decision``, taken over the table by
    :func:`clen_core.compliance.decide_arrays` (the same arithmetic)."""
    table = ctx.table("analysis_result")
    upper, lower, consistent = _result_limits(table)
    value = pc.if_else(consistent, table.column("value"), pa.scalar(None, pa.float64()))
    d = decide_arrays(
        value,
        upper=upper,
        lower=lower,
        U=table.column("expanded_uncertainty"),
        k=table.column("coverage_factor"),
        rule=table.column("decision_rule"),
        limits=False,
    )
    outcome, zone = d.column("outcome"), d.column("zone")
    # "< value" is decided only where every value below it has the same outcome.
    determined = pc.or_(
        pc.and_(pc.is_null(lower), _is(outcome, "compliant")),
        pc.and_(pc.is_null(upper), _is(outcome, "non_compliant")),
    )
    kept = pc.or_(pc.invert(table.column("less_than")), determined)
    ctx.flag_each(
        "analysis_result",
        [
            (pc.and_(kept, pc.and_(_is(outcome, which), _is(zone, where))), "value", message)
            for (which, where), message in _RES004_MESSAGES.items()
        ],
    )


@rule(
    "RES-005",
    WARNING,
    "analysis_result",
    "A result has a limit but not the uncertainty its decision rule needs: no decision.",
    reads=("limit", "limit_type", "expanded_uncertainty", "decision_rule"),
    rowwise=True,
)
def limit_without_uncertainty(ctx: Context) -> None:
    table = ctx.table("analysis_result")
    mask = pc.and_(
        pc.and_(pc.is_valid(table.column("limit")), pc.is_valid(table.column("limit_type"))),
        pc.and_(
            pc.is_null(table.column("expanded_uncertainty")),
            _needs_uncertainty(table.column("decision_rule")),
        ),
    )
    ctx.flag(
        "analysis_result",
        mask,
        "expanded_uncertainty",
        "no uncertainty: its decision rule needs U (only simple acceptance goes without)",
    )


@rule(
    "RES-006",
    ERROR,
    "analysis_result",
    "A two-sided limit lacks its upper end or has it below the lower, or a one-sided has one.",
    reads=("limit", "limit_type", "limit_high"),
    rowwise=True,
)
def two_sided_limit(ctx: Context) -> None:
    table = ctx.table("analysis_result")
    _, _, consistent = _result_limits(table)
    ctx.flag(
        "analysis_result",
        pc.invert(consistent),
        "limit_high",
        lambda v: (
            "a two-sided limit needs limit_high"
            if v is None
            else "limit_high goes only with limit_type two_sided, not below limit"
        ),
    )


# --------------------------------------------------------------------------- methods


def _unit_key(units: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    # "% vol", "%vol" and "% VOL" are one unit.
    return pc.replace_substring(pc.utf8_lower(units), " ", "")


@rule(
    "MET-001",
    WARNING,
    "analysis_result",
    "A result below its method's LOQ is reported as a number, not as < LOQ.",
    reads={
        "analysis_result": ("method_id", "value", "unit", "less_than"),
        "method": ("loq", "unit"),
    },
    rowwise=True,
)
def below_loq(ctx: Context) -> None:
    """Compared only when the result and the method's validation data share a unit."""
    if not ctx.has("method"):
        return
    methods = ctx.column("analysis_result", "method_id")
    loq = ctx.lookup("method", methods, "loq")
    same_unit = pc.equal(
        _unit_key(ctx.column("analysis_result", "unit")),
        _unit_key(ctx.lookup("method", methods, "unit")),
    )
    mask = pc.and_(
        pc.and_(pc.less(ctx.column("analysis_result", "value"), loq), same_unit),
        pc.invert(ctx.column("analysis_result", "less_than")),
    )
    ctx.flag(
        "analysis_result",
        mask,
        "value",
        "below the LOQ of the method used: report it as < LOQ (less_than)",
    )


def _scope_keys(ctx: Context) -> pa.Array:
    """``method_id`` and a prefix (joined by U+001F) for each chapter and code of each scope."""
    table = ctx.table("method")
    keys = []
    for field in ("cn_chapters", "cn_codes"):
        column = table.column(field).combine_chunks()
        parents = pc.list_parent_indices(column)
        ids = pc.take(table.column("method_id").combine_chunks(), parents)
        keys.append(pc.binary_join_element_wise(ids, pc.list_flatten(column), "\x1f"))
    return pa.concat_arrays(keys).unique()


@rule(
    "MET-002",
    WARNING,
    "analysis_result",
    "A result's sample was declared under a CN code outside its method's scope.",
    reads={
        "analysis_result": ("method_id", "sample_id"),
        "method": ("cn_chapters", "cn_codes"),
        "sample": ("declared_cn",),
    },
    rowwise=True,
)
def outside_scope(ctx: Context) -> None:
    """The scope is the method's ``cn_chapters`` and ``cn_codes``; a method with neither
    has no stated scope and is not checked."""
    if not ctx.has("method") or not ctx.has("sample"):
        return
    methods = ctx.column("analysis_result", "method_id")
    declared = ctx.lookup("sample", ctx.column("analysis_result", "sample_id"), "declared_cn")
    size = pc.add(
        pc.list_value_length(ctx.lookup("method", methods, "cn_chapters")),
        pc.list_value_length(ctx.lookup("method", methods, "cn_codes")),
    )
    scope = _scope_keys(ctx)
    inside = pa.repeat(pa.scalar(False), len(declared))
    for digits in (2, 4, 6, 8):
        prefix = pc.utf8_slice_codeunits(declared, 0, digits)
        key = pc.binary_join_element_wise(methods, prefix, "\x1f")
        inside = pc.or_(inside, false_if_null(pc.is_in(key, value_set=scope)))
    mask = pc.and_(pc.and_(pc.is_valid(declared), pc.greater(size, 0)), pc.invert(inside))
    ctx.flag(
        "analysis_result",
        mask,
        "method_id",
        lambda v: f"the sample's declared CN code {v} is outside the method's scope",
        values=declared,
    )


@rule(
    "MET-003",
    WARNING,
    "analysis_result",
    "A result was obtained with a method past its review date.",
    reads={
        "analysis_result": ("method_id", "sample_id", "analysed"),
        "method": ("review_date",),
        "sample": ("received",),
    },
    rowwise=True,
)
def past_review(ctx: Context) -> None:
    """The result's date is its ``analysed`` date, else its sample's receipt: the data's own
    dates, so that the rule gives the same answer whenever it runs."""
    if not ctx.has("method"):
        return
    when = ctx.column("analysis_result", "analysed")
    if ctx.has("sample"):
        received = ctx.lookup("sample", ctx.column("analysis_result", "sample_id"), "received")
        when = pc.coalesce(when, received)
    review = ctx.lookup("method", ctx.column("analysis_result", "method_id"), "review_date")
    ctx.flag(
        "analysis_result",
        pc.greater(when, review),
        "method_id",
        lambda v: f"the method was past its review date ({v})",
        values=review,
    )


_NUMBER = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"


@rule(
    "MET-004",
    ERROR,
    "method",
    "A level of a method's uncertainty_by_level is not a number.",
    reads=("uncertainty_by_level",),
    rowwise=True,
)
def level_not_a_number(ctx: Context) -> None:
    column = ctx.column("method", "uncertainty_by_level")
    entries = _entries(column)
    keys = pc.struct_field(pc.list_flatten(entries), "key")
    parents = pc.list_parent_indices(entries)
    bad = pc.invert(pc.match_substring_regex(pc.utf8_trim_whitespace(keys), _NUMBER))
    ctx.flag_rows(
        "method",
        pc.filter(parents, bad),
        "uncertainty_by_level",
        lambda v: f"level {v!r} is not a number",
        pc.filter(keys, bad),
    )


# --------------------------------------------------------------------------- proficiency


@rule(
    "PT-001",
    WARNING,
    "pt_study",
    f"A PT study has results from fewer than {MIN_PT_RESULTS} laboratories.",
    reads={"pt_study": ("study_id",), "pt_result": ("study_id", "lab_id")},
)
def too_few_results(ctx: Context) -> None:
    if not ctx.has("pt_result"):
        return
    # Replicates are rows of one laboratory: count laboratories, not rows.
    counts = (
        ctx.table("pt_result")
        .group_by("study_id", use_threads=False)
        .aggregate([("lab_id", "count_distinct")])
    )
    n = pc.fill_null(
        ctx.lookup_in(
            counts, "study_id", ctx.column("pt_study", "study_id"), "lab_id_count_distinct"
        ),
        0,
    )
    ctx.flag(
        "pt_study",
        pc.less(n, MIN_PT_RESULTS),
        None,
        f"fewer than {MIN_PT_RESULTS} laboratories: robust statistics are unreliable",
        values=n,
    )


@rule(
    "PT-002",
    INFO,
    "pt_study",
    "A quantitative PT study's σ_pt will be estimated from the participants' results.",
    reads=("kind", "sigma_pt", "sigma_pt_relative", "sigma_pt_source"),
    rowwise=True,
)
def no_sigma(ctx: Context) -> None:
    source = ctx.column("pt_study", "sigma_pt_source")
    from_data = pc.fill_null(_is(source, "participants_data"), True)
    ctx.flag(
        "pt_study",
        pc.and_(
            pc.and_(_is(ctx.column("pt_study", "kind"), "quantitative"), from_data),
            pc.and_(
                pc.is_null(ctx.column("pt_study", "sigma_pt")),
                pc.is_null(ctx.column("pt_study", "sigma_pt_relative")),
            ),
        ),
        "sigma_pt",
        "no σ_pt given: it will be estimated from the results",
    )


@rule(
    "PT-003",
    ERROR,
    "pt_study",
    "A PT study says its assigned value was set beforehand but gives none.",
    reads=("assigned_value", "assigned_value_source", "kind"),
    rowwise=True,
)
def source_without_value(ctx: Context) -> None:
    source = ctx.column("pt_study", "assigned_value_source")
    beforehand = false_if_null(pc.invert(_is(source, "participants_consensus")))
    ctx.flag(
        "pt_study",
        pc.and_(
            pc.and_(_is(ctx.column("pt_study", "kind"), "quantitative"), beforehand),
            pc.is_null(ctx.column("pt_study", "assigned_value")),
        ),
        "assigned_value",
        "the assigned value's source is given but not the value: the round cannot be scored",
    )


# --------------------------------------------------------------------------- enforcement


@rule(
    "OBJ-001",
    ERROR,
    "objective",
    "An objective's level or parent does not match its ID.",
    reads=("objective_id", "parent", "level"),
    rowwise=True,
)
def objective_structure(ctx: Context) -> None:
    table = ctx.table("objective")
    ids, parent = table.column("objective_id"), table.column("parent")
    nested = pc.match_substring(ids, ".")
    strategic = _is(table.column("level"), "strategic")
    expected = pc.replace_substring_regex(ids, r"\.[^.]+$", "")
    wrong_parent = pc.if_else(
        nested,
        pc.fill_null(pc.not_equal(parent, expected), True),
        pc.is_valid(parent),
    )
    ctx.flag_each(
        "objective",
        [
            (
                pc.not_equal(strategic, pc.invert(nested)),
                "level",
                "IDs without a dot are strategic, IDs with one operational",
            ),
            (
                wrong_parent,
                "parent",
                "parent must be the ID without its last part (none for a strategic objective)",
            ),
        ],
    )


@rule(
    "API-001",
    WARNING,
    "action_plan_item",
    "A completed action-plan item has no evaluation.",
    reads=("status", "evaluation"),
    rowwise=True,
)
def completed_without_evaluation(ctx: Context) -> None:
    table = ctx.table("action_plan_item")
    done = _is(table.column("status"), "completed")
    ctx.flag(
        "action_plan_item",
        pc.and_(done, pc.is_null(table.column("evaluation"))),
        "evaluation",
        "completed without an evaluation of its contribution",
    )


# --------------------------------------------------------------------------- programme


@rule(
    "FUN-001",
    ERROR,
    "programme",
    "The funded actions of a programme exceed its budget.",
    reads={
        "programme": ("programme_id", "budget_eur"),
        "funded_action": ("programme_id", "budget_eur"),
    },
)
def over_budget(ctx: Context) -> None:
    if not ctx.has("funded_action"):
        return
    sums = (
        ctx.table("funded_action")
        .group_by("programme_id", use_threads=False)
        .aggregate([("budget_eur", "sum")])
    )
    ids = ctx.column("programme", "programme_id")
    spent = ctx.lookup_in(sums, "programme_id", ids, "budget_eur_sum")
    budget = ctx.column("programme", "budget_eur")
    ctx.flag(
        "programme",
        # Widen the budget, not narrow the sum: a sum beyond the budget's precision is over it.
        pc.greater(spent, pc.cast(budget, spent.type)),
        "budget_eur",
        "funded actions add up to more than the budget",
    )


@rule(
    "FUN-002",
    WARNING,
    "funded_action",
    "A funded action's year is outside its programme's.",
    reads={"funded_action": ("programme_id", "year"), "programme": ("start_year", "end_year")},
    rowwise=True,
)
def year_outside_programme(ctx: Context) -> None:
    if not ctx.has("programme"):
        return
    ids = ctx.column("funded_action", "programme_id")
    first = ctx.lookup("programme", ids, "start_year")
    last = ctx.lookup("programme", ids, "end_year")
    year = ctx.column("funded_action", "year")
    ctx.flag(
        "funded_action",
        pc.or_(pc.less(year, first), pc.greater(year, last)),
        "year",
        "outside the years of its programme",
    )


# --------------------------------------------------------------------------- cooperation


@rule(
    "ATT-001",
    WARNING,
    "attache_post",
    "An attaché post lists its host among covered countries.",
    reads=("covered_countries", "host_country"),
    rowwise=True,
)
def host_covered(ctx: Context) -> None:
    table = ctx.table("attache_post")
    covered = table.column("covered_countries").combine_chunks()
    items = pc.list_flatten(covered)
    parents = pc.list_parent_indices(covered)
    hosts = pc.take(table.column("host_country"), parents)
    same = pc.equal(items, hosts)
    ctx.flag_rows(
        "attache_post",
        pc.filter(parents, same),
        "covered_countries",
        "the host country is covered by definition",
        pc.filter(items, same),
    )
