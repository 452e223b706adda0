"""Deterministic synthetic data for any entity, as Arrow record batches (``clen generate``).

:func:`generate_batches` yields rows of an entity in exactly its
:func:`~clen_core.arrow_schema`, one batch at a time (memory holds one batch,
whatever ``n``), vectorised with :mod:`pyarrow.compute` (no per-row Python for
the built-in entities' columns; no dependency beyond pyarrow).

**What is realistic.** The main entities use the domain's vocabularies:

- ``activity``: the themes of the six actions (Precursor Chemicals, Gemmology,
  Honey Authenticity, Handheld Detection Devices, Tobacco, Textiles, Designer
  Drugs, Species Identification, Waste Codes, ...; the action follows from
  the theme), kinds weighted as in the Commission's listings, real cities with
  their country (mostly EU Member States, a few outside such as Belgrade RS
  and Istanbul TR, so rule ACT-001 fires now and then), dates 2005–2025 lasting
  1–5 days, 5–150 participants or none, project groups for project-group
  meetings;
- ``laboratory``: customs laboratories in those cities, fixed or mobile, member
  or third-country (with participation criteria), accreditation and expertise;
- ``method``, ``analysis_result``, ``pt_study``, ``pt_result``: analytical
  profiles (ethanol in spirit drinks by densimetry, nicotine in e-liquids by
  GC-MS, sulphur in gas oils by XRF, ...) with plausible values, units,
  expanded uncertainties, limits and CN chapters; a result's analyte is its
  method's, a PT result lies near its study's assigned value;
- ``sample``: CN codes from the real HS 2022 subheadings
  (:func:`clen_core.codes.hs.subheadings`) plus two CN digits, customs office
  numbers in the laboratory's country, origins among the EU's trade partners;
- ``substance``: CUS numbers with a CAS-style check digit, valid CAS RNs and EC
  numbers (check digits computed vectorised), real UN numbers, CN codes of the
  chemical chapters, names in several EU languages;
- ``action``, ``member_state``, ``objective``: the six actions and their
  coordinators, the 27 Member States with the year each joined, objectives
  numbered ``1``, ``1.a``, ``1.a.i`` with matching levels and parents.

Every other entity, plugins' too, gets a generic generator derived from its
declarations: shapes, code systems (a fixed pool of valid codes per system),
bounds, lengths, patterns (sampled from the regular expression), enums, and the
``Ordered`` and ``Together`` constraints. Rows are always valid by default.

Keys are unique per seed (``A-{seed}-{i:09d}`` style), except where the key's
domain is smaller than ``n`` (``action`` numbers 1–6; CUS numbers repeat after
10 million; a key in a code system other than CAS or CUS, or with a pattern no
counter fits, is drawn from a pool). References point to the keys the target
entity gets with the same seed, among its first rows (80 laboratories, 6
actions, 30 project groups, 200 methods, 40 objectives, ...; an analysis
result refers to sample ``i // 3``, a PT result to study ``i // 24``): generate
the targets with the same seed and at least that many rows for a dataset whose
references all resolve.

**How errors are injected.** With ``error_rate > 0``, exactly
``round(rows_in_batch * error_rate)`` rows of each batch are made invalid, each
in exactly one field. The rows are those with the smallest hash of (seed,
entity, row number) within the batch. Their kinds cycle, in row order across
batches, through the invariants the entity's declarations have (see
:data:`KINDS`): a number below ``ge`` or at/below ``gt`` or above ``le``, an
unknown enum value, an invalid code (CAS or EC number with a wrong check digit,
CN code in chapter 77, country ``ZZ``, ...), text over ``max_length``, text not
matching ``pattern``, an empty required text, too few list items, a repeated
item, an ``Ordered`` pair reversed (the later field is the one at fault) and a
``Together`` group with one field missing (that field is at fault). Key fields
are left intact. Every value still fits the Arrow type (an unknown enum value
is one more dictionary string, a negative number stays an int64, ...).
:func:`injected` lists the (row, field, kind) of every invalid row without
generating the data.

**Determinism.** The same clen_core version, entity, ``n``, ``seed``,
``error_rate`` and ``batch_rows`` give identical rows. Values come from a
counter-based hash (splitmix64 of a BLAKE2b key of the seed, entity and column,
and the row number), not from a stateful random-number generator: no global
state, nothing that depends on the order batches are consumed in, and no
reliance on a library's generator staying the same across versions. Valid rows
do not even depend on ``batch_rows`` (only which rows are made invalid does).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import hashlib
import importlib
import math
import re
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from clen_core.codes import country, get_code_system, hs
from clen_core.data import ACTIONS, MEMBER_STATES
from clen_core.errors import ArgumentError, ClenError
from clen_core.model import (
    ActivityKind,
    AssignedValueSource,
    Censoring,
    LabKind,
    LabStatus,
    MethodSource,
    MethodStatus,
    ObjectiveLevel,
    PTPurpose,
    ResultKind,
    RobustEstimator,
    SigmaPtSource,
)
from clen_core.model.compliance import LimitType
from clen_core.model.entity import EntityInfo, Ordered, Together, get_entity
from clen_core.model.fields import FieldInfo, ListShape, MapShape, ScalarShape, Shape, Spec
from clen_core.schema.arrow import arrow_schema, arrow_type

__all__ = ["DEFAULT_BATCH_ROWS", "KINDS", "generate_batches", "injected"]

DEFAULT_BATCH_ROWS = 65_536
"""Rows per generated batch unless told otherwise."""

KINDS: tuple[str, ...] = (
    "ge",
    "gt",
    "le",
    "enum",
    "code",
    "max_length",
    "pattern",
    "empty",
    "min_items",
    "unique_items",
    "ordered",
    "together",
)
"""The kinds of invalid value :func:`generate_batches` injects (as :func:`injected` names them)."""

Injection = tuple[int, str, str]
"""(0-based row, field, kind) of an invalid row."""

# --------------------------------------------------------------------------- hashing

_U64 = pa.uint64()
_GOLDEN = pa.scalar(0x9E3779B97F4A7C15, _U64)
_C1 = pa.scalar(0xBF58476D1CE4E5B9, _U64)
_C2 = pa.scalar(0x94D049BB133111EB, _U64)
_S30, _S27, _S31 = (pa.scalar(s, _U64) for s in (30, 27, 31))
_S33, _S11 = pa.scalar(33, _U64), pa.scalar(11, _U64)


@functools.lru_cache(maxsize=4096)
def _key(seed: int, *parts: str) -> int:
    data = "\x1f".join([str(seed), *parts]).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def _mix(key: int, idx: Any) -> Any:
    """splitmix64 of ``idx * golden + key``: 64 well-mixed bits per row (uint64 wraps)."""
    z = pc.add(pc.multiply(idx, _GOLDEN), pa.scalar(key, _U64))
    z = pc.multiply(pc.bit_wise_xor(z, pc.shift_right(z, _S30)), _C1)
    z = pc.multiply(pc.bit_wise_xor(z, pc.shift_right(z, _S27)), _C2)
    return pc.bit_wise_xor(z, pc.shift_right(z, _S31))


class _Arange:
    """0, 1, 2, ... as int64, sliced from one array that grows when needed."""

    def __init__(self) -> None:
        self._values = pa.array(range(0), pa.int64())

    def __call__(self, n: int) -> Any:
        if len(self._values) < n:
            self._values = pa.array(range(max(n, 2 * len(self._values), 1024)), pa.int64())
        return self._values.slice(0, n)


_arange = _Arange()


def _as_u64(values: Any) -> Any:
    return pc.cast(values, _U64)


class _Draw:
    """Deterministic random columns for some rows of an entity: one stream per name."""

    __slots__ = ("entity", "idx", "n", "seed")

    def __init__(self, seed: int, entity: str, idx: Any) -> None:
        self.seed = seed
        self.entity = entity
        self.idx = idx  # uint64 row numbers
        self.n = len(idx)

    def at(self, idx: Any, entity: str | None = None) -> _Draw:
        """The same streams for other rows (of this or another entity)."""
        return _Draw(self.seed, self.entity if entity is None else entity, _as_u64(idx))

    def bits(self, stream: str) -> Any:
        return _mix(_key(self.seed, self.entity, stream), self.idx)

    def below(self, stream: str, k: int) -> Any:
        """Integers in ``[0, k)`` (int64); ``k`` up to 2**31."""
        if k <= 1:
            return pc.multiply(pc.cast(self.idx, pa.int64()), 0)
        high = pc.shift_right(self.bits(stream), _S33)
        return pc.cast(pc.shift_right(pc.multiply(high, pa.scalar(k, _U64)), _S31), pa.int64())

    def between(self, stream: str, lo: int, hi: int) -> Any:
        """Integers in ``[lo, hi]`` (int64)."""
        return pc.add(self.below(stream, hi - lo + 1), lo)

    def uniform(self, stream: str) -> Any:
        """Floats in ``[0, 1)``."""
        top = pc.cast(pc.shift_right(self.bits(stream), _S11), pa.float64())
        return pc.multiply(top, 2.0**-53)

    def chance(self, stream: str, p: float) -> Any:
        """Booleans, true with probability ``p``."""
        return pc.less(self.uniform(stream), p)

    def pick(self, stream: str, values: Any) -> Any:
        """Values drawn uniformly from an array."""
        return values.take(self.below(stream, len(values)))

    def weighted(self, stream: str, table: Any) -> Any:
        """Indices drawn from a table of indices repeated by weight (see :func:`_weights`)."""
        return table.take(self.below(stream, len(table)))


def _weights(weights: Sequence[int]) -> Any:
    return pa.array([i for i, w in enumerate(weights) for _ in range(w)], pa.int64())


def _null_where(mask: Any, values: Any) -> Any:
    return pc.if_else(mask, pa.scalar(None, values.type), values)


def _zeros(d: _Draw) -> Any:
    return pc.multiply(pc.cast(d.idx, pa.int64()), 0)


def _keep_where(mask: Any, values: Any) -> Any:
    return pc.if_else(mask, values, pa.scalar(None, values.type))


def _join(*parts: Any) -> Any:
    return pc.binary_join_element_wise(*parts, "")


def _digits(values: Any, width: int) -> Any:
    """Non-negative integers as zero-padded text of at least ``width`` digits."""
    return pc.ascii_lpad(pc.cast(values, pa.string()), width, "0")


def _mod(values: Any, k: int) -> Any:
    return pc.subtract(values, pc.multiply(pc.divide(values, k), k))


def _days(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def _dates(days: Any) -> Any:
    return pc.cast(pc.cast(days, pa.int32()), pa.date32())


_DAY0, _DAY1 = _days(dt.date(2005, 1, 1)), _days(dt.date(2025, 12, 31))


def _seed_text(seed: int) -> str:
    text = str(seed)
    return text if len(text) <= 20 else hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _ids(prefix: str, seed: int, idx: Any) -> Any:
    """``{prefix}-{seed}-{i:09d}`` for each row number ``i``."""
    return _join(f"{prefix}-{_seed_text(seed)}-", _digits(pc.cast(idx, pa.int64()), 9))


def _enum_array(cls: type[enum.StrEnum], indices: Any) -> Any:
    dictionary = pa.array([m.value for m in cls], pa.string())
    return pa.DictionaryArray.from_arrays(pc.cast(indices, pa.int8()), dictionary)


def _strings(values: Sequence[str | None]) -> Any:
    return pa.array(list(values), pa.string())


# --------------------------------------------------------------------------- vocabularies

# (theme, action, weight): the action follows from the theme.
_THEME_ROWS: tuple[tuple[str, int, int], ...] = (
    ("ILIADe Method Database", 1, 2),
    ("Method Harmonisation", 1, 1),
    ("Inter-laboratory Comparisons", 2, 2),
    ("Method Validation", 2, 1),
    ("Measurement Uncertainty", 3, 2),
    ("Sampling", 3, 2),
    ("Decision Rules", 3, 1),
    ("Quality Survey", 3, 1),
    ("Communication Strategy", 4, 1),
    ("Seminar of European Customs Chemists", 4, 1),
    ("e-Community", 4, 1),
    ("Precursor Chemicals", 5, 4),
    ("Gemmology", 5, 3),
    ("Honey Authenticity", 5, 3),
    ("Handheld Detection Devices", 5, 3),
    ("Tobacco", 5, 3),
    ("Textiles", 5, 3),
    ("Designer Drugs", 5, 4),
    ("Species Identification", 5, 3),
    ("Waste Codes", 5, 2),
    ("Plants", 5, 2),
    ("Detection Technologies", 5, 3),
    ("Mineral Oils", 5, 2),
    ("Food Authenticity", 5, 2),
    ("ECICS", 6, 2),
    ("Chemical Nomenclature", 6, 1),
)
_THEMES = _strings([t for t, _, _ in _THEME_ROWS])
_THEME_ACTION = pa.array([a for _, a, _ in _THEME_ROWS], pa.int64())
_THEME_TABLE = _weights([w for _, _, w in _THEME_ROWS])

# (city, country, weight of events held there): mostly EU, a few outside (ACT-001).
_CITY_ROWS: tuple[tuple[str, str, int], ...] = (
    ("Vienna", "AT", 4), ("Graz", "AT", 1), ("Brussels", "BE", 6), ("Antwerp", "BE", 2),
    ("Leuven", "BE", 1), ("Sofia", "BG", 2), ("Nicosia", "CY", 1), ("Prague", "CZ", 3),
    ("Berlin", "DE", 4), ("Hamburg", "DE", 3), ("Munich", "DE", 2), ("Cologne", "DE", 2),
    ("Copenhagen", "DK", 2), ("Tallinn", "EE", 2), ("Madrid", "ES", 3), ("Barcelona", "ES", 2),
    ("Valencia", "ES", 1), ("Helsinki", "FI", 2), ("Espoo", "FI", 1), ("Paris", "FR", 4),
    ("Marseille", "FR", 1), ("Lyon", "FR", 1), ("Athens", "GR", 3), ("Thessaloniki", "GR", 2),
    ("Zagreb", "HR", 2), ("Budapest", "HU", 3), ("Dublin", "IE", 3), ("Rome", "IT", 4),
    ("Milan", "IT", 2), ("Genoa", "IT", 1), ("Naples", "IT", 1), ("Vilnius", "LT", 2),
    ("Luxembourg", "LU", 2), ("Riga", "LV", 2), ("Valletta", "MT", 1), ("Amsterdam", "NL", 3),
    ("Rotterdam", "NL", 2), ("The Hague", "NL", 2), ("Warsaw", "PL", 3), ("Gdańsk", "PL", 1),
    ("Kraków", "PL", 1), ("Lisbon", "PT", 3), ("Porto", "PT", 1), ("Bucharest", "RO", 2),
    ("Constanța", "RO", 1), ("Stockholm", "SE", 2), ("Gothenburg", "SE", 1),
    ("Ljubljana", "SI", 2), ("Bratislava", "SK", 2),
    ("Belgrade", "RS", 2), ("Istanbul", "TR", 2), ("Skopje", "MK", 1), ("Tirana", "AL", 1),
    ("Podgorica", "ME", 1), ("Sarajevo", "BA", 1), ("Kyiv", "UA", 1), ("Chișinău", "MD", 1),
    ("Geneva", "CH", 1), ("Oslo", "NO", 1),
)  # fmt: skip
_CITIES = _strings([c for c, _, _ in _CITY_ROWS])
_CITY_COUNTRY = _strings([k for _, k, _ in _CITY_ROWS])
_CITY_EU = pa.array([k in country.EU_MEMBER_STATES for _, k, _ in _CITY_ROWS], pa.bool_())
_CITY_TABLE = _weights([w for _, _, w in _CITY_ROWS])
# Laboratories: one site per city, third countries rarer than for events.
_LAB_CITY_TABLE = _weights([3 if k in country.EU_MEMBER_STATES else 1 for _, k, _ in _CITY_ROWS])

_ACCREDITATION_BODIES = {
    "AT": "Akkreditierung Austria", "BE": "BELAC", "BG": "BAS", "CY": "CYS-CYSAB",
    "CZ": "ČIA", "DE": "DAkkS", "DK": "DANAK", "EE": "EAK", "ES": "ENAC", "FI": "FINAS",
    "FR": "COFRAC", "GR": "ESYD", "HR": "HAA", "HU": "NAH", "IE": "INAB", "IT": "ACCREDIA",
    "LT": "LA", "LU": "OLAS", "LV": "LATAK", "MT": "NAB-Malta", "NL": "RvA", "PL": "PCA",
    "PT": "IPAC", "RO": "RENAR", "SE": "SWEDAC", "SI": "SA", "SK": "SNAS", "RS": "ATS",
    "TR": "TÜRKAK", "CH": "SAS", "NO": "Norsk Akkreditering",
}  # fmt: skip
_CITY_BODY = _strings(
    [_ACCREDITATION_BODIES.get(k, "national accreditation body") for _, k, _ in _CITY_ROWS]
)

_KIND_ROWS: tuple[tuple[str, str, int], ...] = (
    ("project_group_meeting", "Meeting of the project group on ", 30),
    ("workshop", "Workshop on ", 25),
    ("training_session", "Training session on ", 18),
    ("seminar", "Seminar on ", 8),
    ("plenary", "Plenary meeting: ", 4),
    ("study_visit", "Study visit: ", 10),
    ("other", "Expert meeting on ", 5),
)
_KIND_TITLE = _strings([t for _, t, _ in _KIND_ROWS])
_KIND_CODES = pa.array([list(ActivityKind).index(ActivityKind(k)) for k, _, _ in _KIND_ROWS])
_KIND_MEETING = [k for k, _, _ in _KIND_ROWS].index(ActivityKind.PROJECT_GROUP_MEETING)
_KIND_TABLE = _weights([w for _, _, w in _KIND_ROWS])

_NOTES = _strings(
    [
        "Programme and minutes on the CLEN e-community.",
        "Hosted by the national customs laboratory.",
        "Joint session with DG TAXUD.",
        "Follow-up of the previous meeting.",
        "Held online.",
        "Postponed from the previous year.",
        "Open to third-country laboratories.",
        "Practical session with handheld instruments.",
    ]
)

_LAB_PREFIXES = _strings(
    ["Customs Laboratory ", "Central Customs Laboratory ", "Regional Customs Laboratory "]
)
_EXPERTISE = _strings(
    [
        "tobacco", "textiles", "drug precursors", "mineral oils", "food products",
        "gemmology", "spirits", "fertilisers", "plastics", "metals", "cosmetics",
        "species identification", "handheld detection", "waste", "honey", "designer drugs",
    ]
)  # fmt: skip
_CRITERIA = _strings(["quality system", "confidentiality agreement", "ISO/IEC 17025 accreditation"])

# analyte | matrix | technique | unit | low | high | limit | limit type | CN chapters | reference
_PROFILE_TABLE = """
ethanol|spirit drinks|distillation and densimetry|% vol|15|96|80|lower|22|Reg. (EC) No 2870/2000
methanol|spirit drinks|GC-FID|g/hl p.a.|0|1500|1000|upper|22|Reg. (EC) No 2870/2000
nicotine|e-liquids|GC-MS|mg/mL|0|24|20|upper|24 38|
caffeine|energy drinks|HPLC-UV|mg/L|50|400|320|upper|21 22|ISO 20481
sucrose|sugar confectionery|HPLC-RI|% m/m|5|90|||17|
milk fat|dairy products|Röse-Gottlieb gravimetry|% m/m|0.1|40|1.5|upper|04 19|ISO 1211
starch|food preparations|polarimetry (Ewers)|% m/m|0|80|5|upper|19 21|ISO 10520
moisture|cereals|oven drying|% m/m|8|16|||10 11|ISO 712
sulphur|gas oils|XRF|mg/kg|1|60|10|upper|27|EN ISO 20846
density at 15 °C|mineral oils|oscillating U-tube|kg/m³|720|1000|||27|EN ISO 12185
cotton|textile fabrics|chemical dissolution|% m/m|0|100|85|lower|52|Reg. (EU) No 1007/2011
C4 sugars|honey|EA-IRMS|%|0|20|7|upper|04|AOAC 998.12
ephedrine|drug precursors|LC-MS/MS|% m/m|0|100|||29 30|
tar|cigarettes|smoking machine gravimetry|mg/cigarette|1|15|10|upper|24|ISO 4387
refractive index|gemstones|refractometry|1|1.4|2.5|||71|
gold|jewellery|fire assay|‰|300|999|375|lower|71|ISO 11426
lactose|milk powders|HPLC-RI|% m/m|0|60|||04|
vanillin|flavourings|HPLC-DAD|g/kg|0|50|||33|
"""
_PROFILE_ROWS = [line.split("|") for line in _PROFILE_TABLE.strip().splitlines()]
_P_ANALYTE = _strings([p[0] for p in _PROFILE_ROWS])
_P_MATRIX = _strings([p[1] for p in _PROFILE_ROWS])
_P_TECHNIQUE = _strings([p[2] for p in _PROFILE_ROWS])
_P_UNIT = _strings([p[3] for p in _PROFILE_ROWS])
_P_LOW = pa.array([float(p[4]) for p in _PROFILE_ROWS], pa.float64())
_P_SPAN = pa.array([float(p[5]) - float(p[4]) for p in _PROFILE_ROWS], pa.float64())
_P_LIMIT = pa.array([float(p[6]) if p[6] else None for p in _PROFILE_ROWS], pa.float64())
_P_LIMIT_TYPE = pa.array([0 if p[7] == "upper" else 1 for p in _PROFILE_ROWS], pa.int64())
_P_HAS_LIMIT = pa.array([bool(p[6]) for p in _PROFILE_ROWS], pa.bool_())
_P_CHAPTERS = pa.array(
    [p[8].split() for p in _PROFILE_ROWS], pa.list_(pa.field("item", pa.string(), nullable=False))
)
_P_REFERENCE = _strings([p[9] or None for p in _PROFILE_ROWS])

_SAMPLE_DESCRIPTIONS = _strings(
    [
        "2 bottles, 0.7 l", "powder, 100 g", "liquid, 250 ml", "granules, 1 kg",
        "tablets, 50 units", "textile swatch, 20 × 20 cm", "e-liquid, 10 ml vials",
        "oil, 1 l can", "crystals in plastic bag, 50 g", "loose-leaf tobacco, 200 g",
        "honey, 500 g jar", "gemstone, 1 piece", "pellets, 500 g", "frozen fish fillet, 1 kg",
        "paste, 300 g", "seeds, 250 g", "metal scrap, 2 pieces", "cigarettes, 1 carton",
    ]
)  # fmt: skip
_ORIGINS = _strings(
    ["CN", "US", "TR", "IN", "GB", "CH", "UA", "JP", "KR", "VN", "BR", "RS", "MA", "TH",
     "NO", "ID", "MY", "ZA", "AR", "EG", "DE", "NL", "IT", "ES", "FR"]
)  # fmt: skip

# name | synonym
_SUBSTANCE_TABLE = """
ethanol|ethyl alcohol
methanol|methyl alcohol
acetone|propan-2-one
toluene|methylbenzene
caffeine|1,3,7-trimethylxanthine
nicotine|3-(1-methylpyrrolidin-2-yl)pyridine
ephedrine|2-methylamino-1-phenylpropan-1-ol
acetic anhydride|ethanoic anhydride
potassium permanganate|permanganic acid, potassium salt
safrole|5-allyl-1,3-benzodioxole
piperonal|heliotropin
sulphuric acid|oil of vitriol
hydrochloric acid|muriatic acid
phenylacetic acid|benzeneacetic acid
anthranilic acid|2-aminobenzoic acid
glycerol|propane-1,2,3-triol
sorbitol|D-glucitol
citric acid|2-hydroxypropane-1,2,3-tricarboxylic acid
sodium chloride|common salt
urea|carbamide
benzene|benzol
xylene|dimethylbenzene
styrene|vinylbenzene
formaldehyde|methanal
paracetamol|acetaminophen
vanillin|4-hydroxy-3-methoxybenzaldehyde
menthol|5-methyl-2-(propan-2-yl)cyclohexanol
lactose|milk sugar
sucrose|saccharose
ethylene glycol|ethane-1,2-diol
diethyl ether|ethoxyethane
isopropanol|propan-2-ol
butanone|methyl ethyl ketone
hexane|n-hexane
titanium dioxide|titanium(IV) oxide
calcium carbonate|chalk
sodium hydroxide|caustic soda
ammonium nitrate|nitric acid, ammonium salt
gamma-butyrolactone|GBL
1-phenyl-2-propanone|BMK
"""
_SUBSTANCE_NAMES = [line.split("|") for line in _SUBSTANCE_TABLE.strip().splitlines()]
_SUB_NAME = _strings([n for n, _ in _SUBSTANCE_NAMES])
_SUB_SYNONYM = _strings([s for _, s in _SUBSTANCE_NAMES])
_EU_LANGUAGES = (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr",
    "hu", "it", "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv",
)  # fmt: skip
_OTHER_LANGUAGES = _strings(["de", "fr", "it", "es", "nl", "pl", "pt", "sv", "cs", "el"])
_INNS = _strings(["paracetamol", "ibuprofen", "caffeine", "ephedrine", "pseudoephedrine"])
_ISO_NAMES = _strings(["glyphosate", "chlorpyrifos", "mancozeb", "captan", "diquat"])
_CHARACTERISTICS = _strings(
    [
        "colourless liquid",
        "white crystalline powder",
        "yellowish oily liquid",
        "hygroscopic solid",
        "volatile, flammable liquid",
        "odourless white granules",
    ]
)
_UN_NUMBERS = _strings(
    ["1170", "1090", "1230", "1203", "1993", "1789", "1830", "1824", "2810", "3082",
     "1263", "1219", "3077", "1760", "2920", "1654", "1198", "1294", "1715", "2789"]
)  # fmt: skip
_CHEMICAL_CHAPTERS = ("28", "29", "30", "32", "33", "34", "38", "39")

_ACTIONS_ROWS = tuple((name, coordinator, cc) for _, name, coordinator, cc in ACTIONS)

_OBJECTIVE_TITLES = _strings(
    [
        "Institutional co-operation", "Joint training", "Operational co-operation",
        "Best practice against cross-border crime", "Pilot projects for joint actions",
        "Information management and exchange", "Threat assessments and risk analysis",
        "Exchange systems", "Intelligence-exchange models", "Mutual assistance",
    ]
)  # fmt: skip
_ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x")
_OBJECTIVE_BLOCK = 40  # IDs per strategic objective: "s", "s.a"-"s.h", "s.a.i"-"s.d.x"…


def _objective_suffixes() -> tuple[list[str], list[str | None]]:
    suffixes: list[str] = [""]
    parents: list[str | None] = [None]
    for p in range(1, _OBJECTIVE_BLOCK):
        if p <= 8:
            suffixes.append("." + "abcdefgh"[p - 1])
            parents.append("")
        else:
            q = p - 9
            letter = "abcd"[q // 10]
            suffixes.append(f".{letter}.{_ROMAN[q % 10]}")
            parents.append(f".{letter}")
    return suffixes, parents


_OBJ_SUFFIX, _OBJ_PARENT = (_strings(s) for s in _objective_suffixes())

_WORDS = _strings(
    [
        "customs", "laboratory", "analysis", "network", "method", "sample", "tariff",
        "classification", "cooperation", "training", "risk", "assessment", "control",
        "detection", "precursor", "tobacco", "textile", "spirits", "mineral", "oil",
        "chemical", "substance", "border", "enforcement", "exchange", "quality", "survey",
        "validation", "inventory", "project", "group", "workshop", "strategy", "programme",
        "capacity", "study", "innovation", "communication", "expert", "team",
    ]
)  # fmt: skip

# Number of rows of a target entity that references point into.
_REF_ROWS = {
    "laboratory": 80,
    "action": 6,
    "project_group": 30,
    "method": 200,
    "objective": _OBJECTIVE_BLOCK,
    "partner": 20,
    "programme": 5,
    "pt_study": 50,
    "sample": 1000,
}
_DEFAULT_REF_ROWS = 100
_PT_BLOCK = 24  # results per PT study

_PREFIXES = {
    "activity": "A",
    "laboratory": "L",
    "project_group": "PG",
    "method": "M",
    "sample": "S",
    "analysis_result": "R",
    "pt_study": "PT",
    "action_plan_item": "API",
    "programme": "P",
    "funded_action": "FA",
    "partner": "PA",
    "attache_post": "AP",
    "information_exchange": "IE",
}


def _prefix(name: str) -> str:
    return _PREFIXES.get(name) or "".join(p[:1] for p in name.split("_")).upper() or "X"


# --------------------------------------------------------------------------- codes


@functools.cache
def _subheadings() -> Any:
    return _strings(sorted(hs.subheadings()))


@functools.cache
def _chemical_subheadings() -> Any:
    return _strings(sorted(s for s in hs.subheadings() if s[:2] in _CHEMICAL_CHAPTERS))


_TWO_DIGITS = _strings([f"{i:02d}" for i in range(100)])


def _cn_codes(d: _Draw, stream: str, subheadings: Any = None) -> Any:
    """CN codes: a real HS 2022 subheading and two CN digits (``00`` half of the time)."""
    subs = _subheadings() if subheadings is None else subheadings
    tail = pc.if_else(d.chance(stream + ".00", 0.5), 0, d.below(stream + ".cn", 100))
    return _join(d.pick(stream, subs), _TWO_DIGITS.take(tail))


@functools.cache
def _chunk_sums(weights: tuple[int, int, int]) -> Any:
    """Weighted digit sums of 000…999, ``weights`` from the rightmost digit on."""
    sums = [sum(w * (c // 10**k % 10) for k, w in enumerate(weights)) for c in range(1000)]
    return pa.array(sums, pa.int64())


def _weighted_digits(number: Any, weights: Sequence[int]) -> Any:
    """Σ weight·digit of non-negative integers, ``weights`` from the rightmost digit on.

    Three digits at a time through a table: a few kernels instead of a loop per digit.
    """
    total = None
    rest = number
    for k in range(0, len(weights), 3):
        chunk = tuple([*weights[k : k + 3], 0, 0][:3])
        term = _chunk_sums((chunk[0], chunk[1], chunk[2])).take(_mod(rest, 1000))
        total = term if total is None else pc.add(total, term)
        rest = pc.divide(rest, 1000)
    return total


def _cas_check(number: Any, digits: int) -> Any:
    """CAS check digit of integers (digits weighted 1, 2, 3, … from the right, mod 10)."""
    return _mod(_weighted_digits(number, range(1, digits + 1)), 10)


def _cas_numbers(first: Any, middle: Any) -> Any:
    """CAS RNs ``first-middle-check`` (first: 10…9,999,999; middle: 0…99), vectorised."""
    check = _cas_check(pc.add(pc.multiply(first, 100), middle), 9)
    return _join(
        pc.cast(first, pa.string()), "-", _digits(middle, 2), "-", pc.cast(check, pa.string())
    )


def _cas_random(d: _Draw, stream: str) -> Any:
    length = d.between(stream + ".len", 2, 7)
    lows = pa.array([10**k for k in range(8)], pa.int64())
    low = lows.take(pc.subtract(length, 1))
    span = pc.subtract(lows.take(length), low)
    scaled = pc.floor(pc.multiply(d.uniform(stream), pc.cast(span, pa.float64())))
    first = pc.add(low, pc.cast(scaled, pa.int64()))
    return _cas_numbers(first, d.below(stream + ".mid", 100))


def _cas_keys(seed: int, idx: Any) -> Any:
    x = pc.cast(idx, pa.int64())
    return _cas_numbers(pc.add(pc.divide(x, 100), 10), _mod(x, 100))


_CUS_SPACE = 10_000_000
_CUS_STEP = 7_654_321  # coprime to 10**7: i -> (step * i + offset) mod 10**7 is a bijection


def _cus_keys(seed: int, idx: Any) -> Any:
    """Distinct CUS numbers for row numbers below 10 million, with a CAS-style check digit."""
    offset = _key(seed, "cus") % _CUS_SPACE
    x = _mod(
        pc.add(pc.multiply(_mod(pc.cast(idx, pa.int64()), _CUS_SPACE), _CUS_STEP), offset),
        _CUS_SPACE,
    )
    return _join(_digits(x, 7), "-", pc.cast(_cas_check(x, 7), pa.string()))


def _ec_numbers(d: _Draw, stream: str) -> Any:
    """EC numbers NNN-NNN-R with the mod-11 check digit (remainder 10 written 1)."""
    body = pc.add(d.below(stream, 300_000), 200_000)  # 200-000 … 499-999: EINECS and ELINCS
    check = _mod(_weighted_digits(body, range(6, 0, -1)), 11)
    check = pc.if_else(pc.equal(check, 10), 1, check)
    return _join(
        _digits(pc.divide(body, 1000), 3), "-", _digits(_mod(body, 1000), 3), "-",
        pc.cast(check, pa.string()),
    )  # fmt: skip


def _code_pool_values(system: str) -> list[str]:
    """A few hundred valid canonical codes of a code system, built with its own rules."""
    d = _Draw(0, "pool", _as_u64(_arange(400)))
    values: list[str]
    if system == "cas":
        values = _cas_random(d, "cas").to_pylist()
    elif system == "cus":
        values = _cus_keys(0, _arange(400)).to_pylist()
    elif system == "ec":
        values = _ec_numbers(d, "ec").to_pylist()
    elif system == "un":
        values = _UN_NUMBERS.to_pylist()
    elif system in ("hs", "cn", "taric"):
        values = _cn_codes(d, "cn").to_pylist()
        values = [v[:6] for v in values] if system == "hs" else values
        values = [v + "00" for v in values] if system == "taric" else values
    elif system == "country":
        values = [*sorted(country.EU_MEMBER_STATES), "CH", "NO", "RS", "TR", "UA", "US", "CN"]
    elif system == "language":  # the EU's official languages
        values = list(_EU_LANGUAGES)
    elif system == "eori":
        digits = d.below("eori", 10**9).to_pylist()
        states = sorted(country.EU_MEMBER_STATES)
        values = [f"{states[i % len(states)]}{x:09d}{i:03d}" for i, x in enumerate(digits)]
    else:
        values = list(get_code_system(system).examples)
    return values


@functools.cache
def _code_pool(system: str) -> Any:
    parsed = get_code_system(system)
    values = [v for v in dict.fromkeys(_code_pool_values(system)) if parsed.is_valid(v)]
    values = [v for v in values if parsed.parse(v) == v]
    if not values:  # pragma: no cover - every system's generator gives valid codes
        raise ClenError(f"no valid {system} codes to generate from")
    return _strings(values)


def _bad_code(system: str, row: int, current: Any) -> str:
    """A value that is certainly not a valid code of ``system``."""
    candidates: list[str] = []
    if system in ("cas", "ec") and isinstance(current, str) and current[-1:].isdigit():
        last = int(current[-1])
        candidates.append(current[:-1] + str((last + 1 + row % 9) % 10))
    candidates += {
        "cas": ["50-00-1", "64-17-6"],
        "ec": ["200-001-9", "231-791-3"],
        "cus": ["1234567", "001148-18"],
        "un": ["0000"],
        "hs": [f"77{row % 10_000:04d}"],
        "cn": [f"77{row % 1_000_000:06d}"],
        "taric": [f"77{row % 100_000_000:08d}"],
        "country": ["ZZ"],
        "eori": [f"ZZ{row % 10**9:09d}"],
        "language": ["qq", "zz"],
    }.get(system, [])
    candidates += ["ZZ", "0000", "?", "not a code"]
    parsed = get_code_system(system)
    for c in candidates:
        if not parsed.is_valid(c):
            return c
    raise ClenError(f"cannot make an invalid {system} code")  # pragma: no cover


# --------------------------------------------------------------------------- patterns

_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./ "
_CATEGORIES: dict[str, Callable[[str], bool]] = {
    "CATEGORY_DIGIT": str.isdigit,
    "CATEGORY_NOT_DIGIT": lambda c: not c.isdigit(),
    "CATEGORY_SPACE": str.isspace,
    "CATEGORY_NOT_SPACE": lambda c: not c.isspace(),
    "CATEGORY_WORD": lambda c: c.isalnum() or c == "_",
    "CATEGORY_NOT_WORD": lambda c: not (c.isalnum() or c == "_"),
}


class _Unsupported(Exception):
    pass


class _Sampler:
    """Strings matching a regular expression, from its parse tree (deterministic)."""

    def __init__(self, pattern: str, key: int) -> None:
        parser = importlib.import_module("re._parser")
        self.tree = parser.parse(pattern)
        self.state = key or 1

    def _next(self, k: int) -> int:
        # xorshift64*: small, deterministic, independent of the random module.
        x = self.state
        x ^= (x >> 12) & 0xFFFFFFFFFFFFFFFF
        x ^= (x << 25) & 0xFFFFFFFFFFFFFFFF
        x ^= x >> 27
        self.state = x & 0xFFFFFFFFFFFFFFFF
        return ((self.state * 0x2545F4914F6CDD1D) & 0xFFFFFFFFFFFFFFFF) % max(k, 1)

    def sample(self) -> str:
        return "".join(self._walk(self.tree))

    def _walk(self, items: Any) -> list[str]:
        out: list[str] = []
        for op, av in items:
            out += self._node(str(op), av)
        return out

    def _chars(self, test: Callable[[str], bool]) -> list[str]:
        chars = [c for c in _ALPHABET if test(c)]
        if not chars:
            raise _Unsupported
        return [chars[self._next(len(chars))]]

    def _node(self, op: str, av: Any) -> list[str]:
        if op == "LITERAL":
            return [chr(av)]
        if op == "NOT_LITERAL":
            return self._chars(lambda c: ord(c) != av)
        if op == "ANY":
            return self._chars(lambda c: c != "\n")
        if op == "IN":
            return self._chars(lambda c: _in_set(av, c))
        if op == "CATEGORY":
            return self._chars(_CATEGORIES[str(av)])
        if op == "AT":
            return []
        if op == "BRANCH":
            alternatives = av[1]
            return self._walk(alternatives[self._next(len(alternatives))])
        if op == "SUBPATTERN":
            return self._walk(av[-1])
        if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, sub = av
            top = min(hi, lo + 3)
            count = lo + self._next(top - lo + 1)
            out: list[str] = []
            for _ in range(count):
                out += self._walk(sub)
            return out
        raise _Unsupported


def _in_set(items: Any, c: str) -> bool:
    negate = False
    hit = False
    for op, av in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            hit = hit or ord(c) == av
        elif name == "RANGE":
            hit = hit or av[0] <= ord(c) <= av[1]
        elif name == "CATEGORY":
            hit = hit or _CATEGORIES[str(av)](c)
        else:
            raise _Unsupported
    return hit != negate


@functools.cache
def _pattern_pool(pattern: str, min_length: int, max_length: int | None) -> tuple[str, ...]:
    """Up to 64 distinct strings that match ``pattern`` within the length bounds."""
    regex = re.compile(pattern)
    try:
        sampler = _Sampler(pattern, _key(0, "pattern", pattern))
        found: dict[str, None] = {}
        for _ in range(2000):
            s = sampler.sample()
            fits = len(s) >= min_length and (max_length is None or len(s) <= max_length)
            if fits and regex.fullmatch(s):
                found[s] = None
                if len(found) >= 64:
                    break
    except _Unsupported:
        return ()
    return tuple(found)


def _bad_pattern(spec: Spec) -> str:
    assert spec.pattern is not None
    regex = re.compile(spec.pattern)
    size = max(spec.min_length or 1, 1)
    for base in ("#", "?", "!", "~", "not matching"):
        s = (base * size)[: max(size, len(base))]
        if spec.max_length is not None and len(s) > spec.max_length:
            continue
        if regex.fullmatch(s) is None:
            return s
    raise ClenError(f"cannot make a value that breaks {spec.pattern}")  # pragma: no cover


# --------------------------------------------------------------------------- the plan

KeyFn = Callable[[int, Any], Any]
Columns = dict[str, Any]


class _Gen:
    """Everything one ``generate_batches`` call needs besides the rows: keys, pools, targets."""

    def __init__(self, info: EntityInfo, seed: int) -> None:
        self.info = info
        self.seed = seed
        self.schema = arrow_schema(info)
        self.types = {f.name: self.schema.field(f.name).type for f in info.fields}
        self.key_fns = _key_fns(info)
        self._ref_pools: dict[str, Any] = {}
        self._examples: dict[str, Any] = {}
        self.targets = _targets(info)
        self.cycle = _cycle(self.targets)
        self.columns: Callable[[_Gen, _Draw], Columns] | None = (
            _CUSTOM.get(info.name) if _is_builtin(info) else None
        )

    def item_type(self, f: FieldInfo) -> Any:
        """Arrow type of the items of list field ``f``."""
        return self.types[f.name].value_type

    def ref_pool(self, f: FieldInfo) -> Any:
        """Keys of the first rows of the entity ``f`` refers to, when ``f`` accepts them."""
        if f.name in self._ref_pools:
            return self._ref_pools[f.name]
        pool = None
        target_name = f.spec.ref
        try:
            target = get_entity(target_name) if target_name else None
        except ClenError:
            target = None
        if target is not None and len(target.key) == 1:
            fn = _key_fns(target).get(target.key[0])
            if fn is not None:
                rows = _REF_ROWS.get(target.name, _DEFAULT_REF_ROWS)
                values = fn(self.seed, _as_u64(_arange(rows)))
                candidate = pc.unique(values)
                if all(_item_ok(f, v) for v in candidate.to_pylist()):
                    pool = candidate
        self._ref_pools[f.name] = pool
        return pool

    def example(self, f: FieldInfo) -> Any:
        """A valid, non-null Python value of ``f``."""
        if f.name not in self._examples:
            d = _Draw(self.seed, self.info.name, _as_u64(_arange(1)))
            column = _column(self, f, f.shape, f.spec, d, f.name + "#example")
            self._examples[f.name] = column.cast(self.types[f.name])[0].as_py()
        return self._examples[f.name]


def _is_builtin(info: EntityInfo) -> bool:
    try:
        return get_entity(info.name).cls is info.cls
    except ClenError:
        return False


def _item_ok(f: FieldInfo, value: Any) -> bool:
    """Whether ``value`` is valid as ``f``'s innermost scalar."""
    try:
        if isinstance(f.shape, ScalarShape):
            f.validate(value)
        elif isinstance(f.shape, ListShape):
            f.validate([value])
        else:
            return False
    except ValueError:
        return False
    return True


def _int_bounds(spec: Spec, default: tuple[int, int] = (0, 1000)) -> tuple[int, int]:
    lo = math.ceil(spec.ge) if spec.ge is not None else None
    if spec.gt is not None:
        lo = max(lo if lo is not None else -(2**62), math.floor(spec.gt) + 1)
    hi = math.floor(spec.le) if spec.le is not None else None
    if lo is None and hi is None:
        lo, hi = default
    elif lo is None:
        assert hi is not None
        lo = hi - (default[1] - default[0])
    elif hi is None:
        hi = lo + (default[1] - default[0])
    return lo, min(hi, lo + 2**31 - 2)


def _key_fns(info: EntityInfo) -> dict[str, KeyFn]:
    """Functions giving unique key values for row numbers: for the field(s) that can have them."""
    custom = _CUSTOM_KEYS.get(info.name) if _is_builtin(info) else None
    if custom is not None:
        return custom
    for name in info.key:
        fn = _generic_key_fn(info, info.field(name))
        if fn is not None:
            return {name: fn}
    return {}


def _generic_key_fn(info: EntityInfo, f: FieldInfo) -> KeyFn | None:
    if not isinstance(f.shape, ScalarShape) or f.shape.enum is not None:
        return None
    py, spec = f.shape.py, f.spec
    if py is int:
        lo, hi = _int_bounds(spec, (1, 2**62))
        size = hi - lo + 1
        return lambda seed, idx: pc.add(_mod(pc.cast(idx, pa.int64()), size), lo)
    if py is dt.date:
        return lambda seed, idx: _dates(pc.add(pc.cast(idx, pa.int64()), _DAY0))
    if py is not str:
        return None
    if spec.code == "cas":
        return _cas_keys
    if spec.code == "cus":
        return _cus_keys
    if spec.code is not None:
        return None
    prefix = _prefix(info.name)

    def counter(idx: Any) -> Any:
        return pc.cast(pc.add(pc.cast(idx, pa.int64()), 1), pa.string())

    candidates: list[KeyFn] = [  # the first whose values the field accepts
        lambda seed, idx: _ids(prefix, seed, idx),
        lambda seed, idx: _join(prefix, "-", counter(idx)),
        lambda seed, idx: _join(prefix, counter(idx)),
        lambda seed, idx: counter(idx),
    ]
    probe = _as_u64(pa.array([0, 1, 12_345, 999_999_999], pa.int64()))
    for fn in candidates:
        if all(_item_ok(f, v) for v in fn(-(10**18), probe).to_pylist()):
            return fn
    return None


def _targets(info: EntityInfo) -> list[tuple[str, str]]:
    """(field, kind) of every invariant a row can break, in declaration order."""
    keys = set(info.key)
    found: list[tuple[str, str]] = []
    for f in info.fields:
        found += [(f.name, k) for k in _field_kinds(f)]
    for c in info.constraints:
        if isinstance(c, Ordered) and _orderable(info.field(c.earlier), info.field(c.later)):
            found.append((c.later, "ordered"))
        elif isinstance(c, Together) and len(c.fields) > 1:
            found += [(name, "together") for name in c.fields if info.field(name).optional]
    outside = [t for t in found if t[0] not in keys]
    return outside or found


def _orderable(earlier: FieldInfo, later: FieldInfo) -> bool:
    types = (int, float, Decimal, dt.date)
    return all(
        isinstance(f.shape, ScalarShape) and f.shape.enum is None and f.shape.py in types
        for f in (earlier, later)
    )


def _fits_int64(v: float | Decimal | int) -> bool:
    return -(2**62) < v < 2**62


def _field_kinds(f: FieldInfo) -> list[str]:
    kinds: list[str] = []
    spec, shape, sc = f.spec, f.shape, f.scalar
    if isinstance(shape, ListShape | MapShape) and spec.min_items >= 1:
        kinds.append("min_items")
    if isinstance(shape, ListShape) and spec.unique_items:
        kinds.append("unique_items")
    if isinstance(shape, MapShape) and spec.key_code:
        kinds.append("code")
    if sc.enum is not None:
        kinds.append("enum")
    elif sc.py is str:
        if spec.code is not None:
            if "code" not in kinds:
                kinds.append("code")
        else:
            if spec.max_length is not None:
                kinds.append("max_length")
            if spec.pattern is not None:
                kinds.append("pattern")
            if spec.min_length is not None and spec.min_length >= 1:
                kinds.append("empty")
    elif sc.py in (int, float, Decimal):
        for kind in ("ge", "gt", "le"):
            bound = getattr(spec, kind)
            if bound is not None and _fits_int64(bound) and _bound_breakable(sc.py, spec, bound):
                kinds.append(kind)
    return kinds


def _bound_breakable(py: type, spec: Spec, bound: float | Decimal | int) -> bool:
    if py is Decimal:
        return abs(Decimal(bound)) + 10 < Decimal(10) ** (spec.precision - spec.scale)
    return True


def _cycle(targets: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Targets interleaved by kind, so that injections cycle through the kinds."""
    by_kind: dict[str, list[str]] = {}
    for name, kind in targets:
        by_kind.setdefault(kind, []).append(name)
    if not by_kind:
        return []
    longest = max(len(v) for v in by_kind.values())
    return [
        (names[r % len(names)], kind) for r in range(longest) for kind, names in by_kind.items()
    ]


def _info(entity: str | type | EntityInfo) -> EntityInfo:
    return entity if isinstance(entity, EntityInfo) else get_entity(entity)


def _check(n: int, error_rate: float, batch_rows: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ArgumentError(f"n must be a whole number ≥ 0, got {n!r}")
    if not isinstance(error_rate, int | float) or not 0.0 <= error_rate <= 1.0:
        raise ArgumentError(f"error_rate must be between 0 and 1, got {error_rate!r}")
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, int) or batch_rows < 1:
        raise ArgumentError(f"batch_rows must be a whole number ≥ 1, got {batch_rows!r}")


def _batches(n: int, batch_rows: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, batch_rows):
        yield start, min(batch_rows, n - start)


def _needs_errors(n: int, error_rate: float, batch_rows: int) -> bool:
    """Whether some batch gets at least one invalid row."""
    full, rest = divmod(n, batch_rows)
    return (full > 0 and round(batch_rows * error_rate) > 0) or round(rest * error_rate) > 0


def _error_plan(
    seed: int, info: EntityInfo, cycle: list[tuple[str, str]], n: int, error_rate: float,
    batch_rows: int,
) -> Iterator[tuple[int, int, list[tuple[int, str, str]]]]:  # fmt: skip
    """(start, rows, [(position in batch, field, kind)]) of every batch."""
    done = 0
    for start, rows in _batches(n, batch_rows):
        m = round(rows * error_rate)
        if m == 0:
            yield start, rows, []
            continue
        idx = _as_u64(pc.add(_arange(rows), start))
        scores = _mix(_key(seed, info.name, "#errors"), idx)
        # The m smallest scores: distinct 64-bit values, so the set does not depend on ties.
        chosen = pc.select_k_unstable(scores, k=m, sort_keys=[("score", "ascending")])
        positions = sorted(chosen.to_pylist())
        plan = [(p, *cycle[(done + t) % len(cycle)]) for t, p in enumerate(positions)]
        done += m
        yield start, rows, plan


def injected(
    entity: str | type | EntityInfo,
    n: int,
    *,
    seed: int = 0,
    error_rate: float = 0.0,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> list[Injection]:
    """The (0-based row, field, kind) of every row :func:`generate_batches` makes invalid.

    Same arguments, same answer; computed from the row numbers alone (a hash and a sort
    per batch), without generating the data. Kinds are those of :data:`KINDS`; the field is
    the one a reader's reject names (for ``ordered`` the later field, for ``together``
    the missing one).
    """
    info = _info(entity)
    _check(n, error_rate, batch_rows)
    cycle = _cycle(_targets(info))
    _check_breakable(info, cycle, n, error_rate, batch_rows)
    out: list[Injection] = []
    for start, _, plan in _error_plan(seed, info, cycle, n, error_rate, batch_rows):
        out += [(start + p, name, kind) for p, name, kind in plan]
    return out


def generate_batches(
    entity: str | type | EntityInfo,
    n: int,
    *,
    seed: int = 0,
    error_rate: float = 0.0,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> Iterator[pa.RecordBatch]:
    """``n`` deterministic synthetic rows of ``entity``, in batches of ``batch_rows``.

    Each batch is in exactly :func:`~clen_core.arrow_schema` of the entity. With
    ``error_rate``, ``round(rows_in_batch * error_rate)`` rows of each batch are invalid
    in exactly one field each; :func:`injected` tells which (see the module docs).
    Arguments are checked at once; the rows are made as the iterator is consumed.
    """
    info = _info(entity)
    _check(n, error_rate, batch_rows)
    gen = _Gen(info, seed)
    _check_breakable(info, gen.cycle, n, error_rate, batch_rows)
    return _generate(gen, n, error_rate, batch_rows)


def _check_breakable(
    info: EntityInfo, cycle: list[tuple[str, str]], n: int, error_rate: float, batch_rows: int
) -> None:
    if not cycle and _needs_errors(n, error_rate, batch_rows):
        raise ArgumentError(f"{info.name} declares no invariant that a row could break")


def _generate(gen: _Gen, n: int, error_rate: float, batch_rows: int) -> Iterator[pa.RecordBatch]:
    info = gen.info
    for start, rows, plan in _error_plan(gen.seed, info, gen.cycle, n, error_rate, batch_rows):
        idx = _as_u64(pc.add(_arange(rows), start))
        d = _Draw(gen.seed, info.name, idx)
        if gen.columns is None:
            columns = _generic_columns(gen, d)
        else:
            columns = gen.columns(gen, d)
            for f in info.fields:  # a field the built-in generator does not know yet
                if f.name not in columns:
                    columns[f.name] = _generic_field(gen, f, d)
        arrays = {f.name: _conform(columns[f.name], gen.types[f.name]) for f in info.fields}
        if plan:
            _inject(gen, arrays, start, rows, plan)
        yield pa.RecordBatch.from_arrays([arrays[f.name] for f in info.fields], schema=gen.schema)


def _conform(column: Any, target: Any) -> Any:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if column.type.equals(target):
        return column
    if pa.types.is_dictionary(target) and not pa.types.is_dictionary(column.type):
        encoded = pc.dictionary_encode(column)
        return pa.DictionaryArray.from_arrays(
            pc.cast(encoded.indices, target.index_type), encoded.dictionary
        )
    return column.cast(target)


# --------------------------------------------------------------------------- generic columns


def _column(gen: _Gen, f: FieldInfo, shape: Shape, spec: Spec, d: _Draw, stream: str) -> Any:
    """Valid non-null values of one shape of field ``f`` for the rows of ``d``."""
    if isinstance(shape, ScalarShape):
        if spec.ref is not None:
            pool = gen.ref_pool(f)
            if pool is not None:
                return d.pick(stream, pool)
        return _scalar_column(f, shape, spec, d, stream)
    if isinstance(shape, ListShape):
        if isinstance(shape.item, ScalarShape):
            pool = _item_pool(gen, f, shape.item, spec, stream)
            unique = spec.unique_items
            return _lists(d, stream, pool, spec.min_items, unique, arrow_type(shape, spec))
        counts = d.between(stream + "#n", spec.min_items, spec.min_items + 2)
        offsets, parents, positions = _layout(counts)
        child = d.at(pc.add(pc.multiply(pc.cast(d.idx, pa.int64()).take(parents), 16), positions))
        items = _column(gen, f, shape.item, spec, child, stream + "[]")
        return pa.ListArray.from_arrays(offsets, items, type=arrow_type(shape, spec))
    key_spec = Spec("key", code=spec.key_code)
    keys_pool = _scalar_pool(f, shape.key, key_spec, stream + "#keys", is_key=True)
    counts = d.between(stream + "#n", spec.min_items, spec.min_items + 2)
    counts = pc.min_element_wise(counts, len(keys_pool))
    offsets, parents, positions = _layout(counts)
    starts = d.below(stream + "#start", len(keys_pool)).take(parents)
    keys = keys_pool.take(_mod(pc.add(starts, positions), len(keys_pool)))
    child = d.at(pc.add(pc.multiply(pc.cast(d.idx, pa.int64()).take(parents), 16), positions))
    values = _column(gen, f, shape.value, spec, child, stream + "{}")
    return pa.MapArray.from_arrays(offsets, keys, values, type=arrow_type(shape, spec))


def _layout(counts: Any) -> tuple[Any, Any, Any]:
    """Offsets, parent row and position within the row of each child, for item counts."""
    counts = pc.cast(counts, pa.int32())
    ends = pc.cumulative_sum(counts)
    offsets = pa.concat_arrays([pa.array([0], pa.int32()), ends.cast(pa.int32())])
    total = offsets[-1].as_py() if len(offsets) else 0
    dummy = pa.ListArray.from_arrays(offsets, pa.nulls(total, pa.int8()))
    parents = pc.list_parent_indices(dummy)
    positions = pc.subtract(_arange(total), pc.cast(offsets.take(parents), pa.int64()))
    return offsets, parents, positions


def _lists(
    d: _Draw, stream: str, pool: Any, min_items: int, unique: bool, list_type: Any,
    max_extra: int = 2,
) -> Any:  # fmt: skip
    """Lists of ``min_items`` to ``min_items + max_extra`` consecutive pool values."""
    hi = min_items + max_extra
    if unique:
        hi = min(hi, len(pool))
    counts = d.between(stream + "#n", min(min_items, hi), hi)
    offsets, parents, positions = _layout(counts)
    starts = d.below(stream + "#start", len(pool)).take(parents)
    items = pool.take(_mod(pc.add(starts, positions), len(pool)))
    return pa.ListArray.from_arrays(offsets, items, type=list_type)


def _item_pool(gen: _Gen, f: FieldInfo, shape: ScalarShape, spec: Spec, stream: str) -> Any:
    if spec.ref is not None:
        pool = gen.ref_pool(f)
        if pool is not None:
            return pool
    return _scalar_pool(f, shape, spec, stream)


def _scalar_pool(
    f: FieldInfo, shape: ScalarShape, spec: Spec, stream: str, *, is_key: bool = False
) -> Any:
    """Up to 32 distinct valid values (enums: every member; booleans: both)."""
    if shape.enum is not None:
        return _enum_array(shape.enum, _arange(len(shape.enum)))
    if shape.py is bool:
        return pa.array([False, True], pa.bool_())
    d = _Draw(0, "pool", _as_u64(_arange(128)))
    values = pc.unique(_scalar_column(f, shape, spec, d, stream, is_key=is_key))
    return values.slice(0, 32)


def _scalar_column(
    f: FieldInfo, shape: ScalarShape, spec: Spec, d: _Draw, stream: str, *, is_key: bool = False
) -> Any:
    py = shape.py
    if shape.enum is not None:
        return _enum_array(shape.enum, d.below(stream, len(shape.enum)))
    if py is bool:
        return d.chance(stream, 0.5)
    if py is int:
        lo, hi = _int_bounds(spec)
        if "year" in f.name and lo <= 2027 and hi >= 2000:
            lo, hi = max(lo, 2000), min(hi, 2027)
        return d.between(stream, lo, hi)
    if py is float:
        return _floats(spec, d, stream)
    if py is Decimal:
        return _decimals(spec, d, stream)
    if py is dt.date:
        return _dates(d.between(stream, _DAY0, _DAY1))
    code = spec.code
    if code is not None:
        return d.pick(stream, _code_pool(code))
    min_length = 1 if is_key else (spec.min_length or 0)
    max_length = None if is_key else spec.max_length
    if spec.pattern is not None and not is_key:
        values = _pattern_pool(spec.pattern, min_length, max_length)
        if not values:
            raise ClenError(
                f"cannot generate values of {f.name!r}: its pattern {spec.pattern} uses "
                "constructs the generator does not sample"
            )
        return d.pick(stream, _strings(values))
    if f.name.endswith("city"):
        text = d.pick(stream, _CITIES)
    elif "theme" in f.name:
        text = d.pick(stream, _THEMES)
    else:
        text = _join(
            d.pick(stream + ".1", _WORDS), " ", d.pick(stream + ".2", _WORDS), " ",
            d.pick(stream + ".3", _WORDS),
        )  # fmt: skip
    if max_length is not None:
        text = pc.utf8_slice_codeunits(text, 0, max_length)
    if min_length > 0:
        text = pc.utf8_rpad(text, min_length, "x")
    return text


def _floats(spec: Spec, d: _Draw, stream: str) -> Any:
    lo = float(spec.ge) if spec.ge is not None else None
    if spec.gt is not None:
        gt = float(spec.gt)
        lo = max(lo if lo is not None else -math.inf, gt + max(abs(gt) * 1e-9, 1e-6))
    hi = float(spec.le) if spec.le is not None else None
    if lo is None and hi is None:
        lo, hi = 0.0, 1000.0
    elif lo is None:
        assert hi is not None
        lo = hi - 1000.0
    elif hi is None:
        hi = lo + 1000.0
    values = pc.round(pc.add(pc.multiply(d.uniform(stream), hi - lo), lo), 3)
    return pc.min_element_wise(pc.max_element_wise(values, lo), hi)


def _decimals(spec: Spec, d: _Draw, stream: str) -> Any:
    limit = 10 ** min(spec.precision - spec.scale, 15) - 1
    lo, hi = _int_bounds(spec, (0, min(1_000_000, limit)))
    lo, hi = max(lo, -limit), min(hi, limit)
    scale = max(spec.scale, 0)
    drawn = min(scale, 4)  # fraction digits drawn; the others are zeros
    unit = 10**drawn
    lo_units, hi_units = lo * unit, hi * unit
    hi_units = min(hi_units, lo_units + 2**31 - 2)
    units = d.between(stream, lo_units, hi_units)
    if scale == 0:
        return pc.cast(pc.cast(units, pa.string()), pa.decimal128(spec.precision, spec.scale))
    size = pc.abs(units)
    sign = pc.if_else(pc.less(units, 0), "-", "")
    whole = pc.cast(pc.divide(size, unit), pa.string())
    fraction = _digits(_mod(size, unit), drawn) if drawn else ""
    text = _join(sign, whole, ".", fraction, "0" * (scale - drawn))
    return pc.cast(text, pa.decimal128(spec.precision, spec.scale))


def _generic_field(gen: _Gen, f: FieldInfo, d: _Draw) -> Any:
    """One field's column on its own (a fifth missing when optional)."""
    column = _column(gen, f, f.shape, f.spec, d, f.name)
    return _null_where(d.chance(f.name + "#null", 0.2), column) if f.optional else column


def _generic_columns(gen: _Gen, d: _Draw) -> dict[str, Any]:
    info = gen.info
    columns: dict[str, Any] = {}
    for f in info.fields:
        fn = gen.key_fns.get(f.name)
        if fn is not None:
            columns[f.name] = fn(gen.seed, d.idx)
        else:
            columns[f.name] = _column(gen, f, f.shape, f.spec, d, f.name)
    nulls = {
        f.name: d.chance(f.name + "#null", 0.2)
        for f in info.fields
        if f.optional and f.name not in gen.key_fns
    }
    for c in info.constraints:
        if isinstance(c, Together):
            if all(info.field(name).optional for name in c.fields):
                absent = d.chance("#together:" + ",".join(c.fields), 0.4)
            else:
                absent = pc.less(d.below("#none", 1), 0)  # all false: every field given
            for name in c.fields:
                if name in nulls:
                    nulls[name] = absent
    for name, mask in nulls.items():
        columns[name] = _null_where(mask, columns[name])
    for c in info.constraints:
        if isinstance(c, Ordered) and _orderable(info.field(c.earlier), info.field(c.later)):
            columns[c.later] = _ordered(
                info.field(c.later), columns[c.earlier], columns[c.later], d
            )
    return columns


def _ordered(later: FieldInfo, earlier_values: Any, later_values: Any, d: _Draw) -> Any:
    """``later`` where it is not before ``earlier``; else ``earlier`` plus a little."""
    wrong = pc.fill_null(pc.less(later_values, earlier_values), False)
    py = later.scalar.py
    if py is dt.date:
        gap = pc.cast(d.below(later.name + "#gap", 30), pa.int32())
        replacement = _dates(pc.add(pc.cast(earlier_values, pa.int32()), gap))
    elif py is int:
        replacement = pc.add(earlier_values, d.below(later.name + "#gap", 8))
        if later.spec.le is not None:
            replacement = pc.min_element_wise(replacement, math.floor(later.spec.le))
        replacement = pc.max_element_wise(replacement, earlier_values)
    else:
        replacement = earlier_values
    return pc.if_else(wrong, pc.cast(replacement, later_values.type), later_values)


# --------------------------------------------------------------------------- error injection


def _inject(
    gen: _Gen, arrays: dict[str, Any], start: int, rows: int, plan: list[tuple[int, str, str]]
) -> None:
    info = gen.info
    changes: dict[str, dict[int, Any]] = {}

    def current(name: str, pos: int) -> Any:
        if pos in changes.get(name, {}):
            return changes[name][pos]
        return arrays[name][pos].as_py()

    def given(name: str, pos: int) -> Any:
        value = current(name, pos)
        return gen.example(info.field(name)) if value is None else value

    for pos, name, kind in plan:
        f = info.field(name)
        row = start + pos
        if kind == "ordered":
            o = next(c for c in info.constraints if isinstance(c, Ordered) and c.later == name)
            earlier, later = _reversed(info.field(o.earlier), f, given(o.earlier, pos), row)
            changes.setdefault(o.earlier, {})[pos] = earlier
            changes.setdefault(name, {})[pos] = later
        elif kind == "together":
            t = next(c for c in info.constraints if isinstance(c, Together) and name in c.fields)
            for other in t.fields:
                if other != name:
                    changes.setdefault(other, {})[pos] = given(other, pos)
            changes.setdefault(name, {})[pos] = None
        else:
            changes.setdefault(name, {})[pos] = _bad_value(gen, f, kind, current(name, pos), row)
    positions = sorted({pos for pos, _, _ in plan})
    index = _scatter_index(rows, positions)
    taken = pa.array(positions, pa.int64())
    for name, values in changes.items():
        arrays[name] = _scatter(arrays[name], index, taken, positions, values)


def _scatter_index(rows: int, positions: list[int]) -> Any:
    """Take-indices into ``column + replacements``: row ``p`` of ``positions`` reads its slot."""
    bits = bytearray((rows + 7) // 8)
    for p in positions:
        bits[p >> 3] |= 1 << (p & 7)
    mask = pa.Array.from_buffers(pa.bool_(), rows, [None, pa.py_buffer(bytes(bits))])
    slots = pc.add(_arange(len(positions)), rows)
    return pc.replace_with_mask(_arange(rows), mask, slots)


def _scatter(
    column: Any, index: Any, taken: Any, positions: list[int], values: dict[int, Any]
) -> Any:
    """``column`` with the rows in ``values`` replaced (others of ``positions`` unchanged)."""
    originals = column.take(taken).to_pylist()
    replaced = [values.get(p, o) for p, o in zip(positions, originals, strict=True)]
    if pa.types.is_dictionary(column.type):
        dictionary = column.dictionary.to_pylist()
        codes = []
        for v in replaced:
            if v is not None and v not in dictionary:
                dictionary.append(v)
            codes.append(None if v is None else dictionary.index(v))
        extra = pa.array(codes, column.type.index_type)
        indices = pa.concat_arrays([column.indices, extra]).take(index)
        return pa.DictionaryArray.from_arrays(indices, pa.array(dictionary, pa.string()))
    return pa.concat_arrays([column, pa.array(replaced, type=column.type)]).take(index)


def _step(py: type, row: int) -> Any:
    if py is dt.date:
        return dt.timedelta(days=1 + row % 30)
    if py is int:
        return 1 + row % 3
    if py is Decimal:
        return Decimal(1 + row % 3)
    return 0.5 + row % 3


def _valid(f: FieldInfo, value: Any) -> bool:
    try:
        f.validate(value)
    except ValueError:
        return False
    return True


def _reversed(earlier: FieldInfo, later: FieldInfo, value: Any, row: int) -> tuple[Any, Any]:
    """(earlier, later) values, each valid on its own, with later before earlier."""
    step = _step(later.scalar.py, row)
    starts = [value + k * step for k in range(4)]
    low = later.spec.ge if later.spec.ge is not None else later.spec.gt
    if low is not None:
        starts.append(later.scalar.py(math.ceil(low)) + 2 * step)
    for v in starts:
        if _valid(earlier, v) and _valid(later, v - step):
            return v, v - step
    return value, value - step  # pragma: no cover - bounds too tight to reverse


def _bad_value(gen: _Gen, f: FieldInfo, kind: str, value: Any, row: int) -> Any:
    shape = f.shape
    if kind == "min_items":
        return []
    if kind == "unique_items":
        items = list(value or [])
        item = items[0] if items else _first_item(gen, f)
        return [item, item, *items[1:]]
    if kind == "code" and isinstance(shape, MapShape) and f.spec.key_code:
        entries = list(value or [])
        bad = _bad_code(f.spec.key_code, row, None)
        if entries:
            entries[0] = (bad, entries[0][1])
        else:
            assert isinstance(shape, MapShape)
            entries = [(bad, _valid_value(gen, f, shape.value))]
        return entries
    return _wrap(gen, f, shape, value, _bad_scalar(f, kind, _innermost(shape, value), row))


def _first_item(gen: _Gen, f: FieldInfo) -> Any:
    assert isinstance(f.shape, ListShape)
    assert isinstance(f.shape.item, ScalarShape)
    return _item_pool(gen, f, f.shape.item, f.spec, f.name).cast(gen.item_type(f))[0].as_py()


def _valid_value(gen: _Gen, f: FieldInfo, shape: Shape) -> Any:
    d = _Draw(gen.seed, gen.info.name, _as_u64(_arange(1)))
    return _column(gen, f, shape, f.spec, d, f.name + "#value")[0].as_py()


def _valid_key(f: FieldInfo, shape: MapShape) -> Any:
    keys = _scalar_pool(f, shape.key, Spec("key", code=f.spec.key_code), "#keys", is_key=True)
    return keys[0].as_py()


def _innermost(shape: Shape, value: Any) -> Any:
    while not isinstance(shape, ScalarShape):
        if not value:
            return None
        if isinstance(shape, ListShape):
            shape, value = shape.item, value[0]
        else:
            shape, value = shape.value, value[0][1]
    return value


def _wrap(gen: _Gen, f: FieldInfo, shape: Shape, value: Any, bad: Any) -> Any:
    """``value`` with its first innermost scalar replaced by ``bad``."""
    if isinstance(shape, ScalarShape):
        return bad
    if isinstance(shape, ListShape):
        items = list(value or [])
        if items:
            items[0] = _wrap(gen, f, shape.item, items[0], bad)
        else:
            items = [_wrap(gen, f, shape.item, None, bad)]
        return items
    entries = list(value or [])
    if entries:
        key, inner = entries[0]
        entries[0] = (key, _wrap(gen, f, shape.value, inner, bad))
    else:
        entries = [(_valid_key(f, shape), _wrap(gen, f, shape.value, None, bad))]
    return entries


_FILLER = " (continued) lorem ipsum dolor sit amet"


def _bad_scalar(f: FieldInfo, kind: str, value: Any, row: int) -> Any:
    spec, sc = f.spec, f.scalar
    py = sc.py
    if kind == "enum":
        assert sc.enum is not None
        members = {m.value for m in sc.enum}
        bad = "unknown"
        while bad in members:
            bad += "_value"
        return bad
    if kind in ("ge", "gt", "le"):
        bound = getattr(spec, kind)
        k = row % 5
        if py is int:
            if kind == "le":
                return math.floor(bound) + 1 + k
            return (math.ceil(bound) - 1 - k) if kind == "ge" else (math.floor(bound) - k)
        if py is Decimal:
            exact = Decimal(bound).quantize(Decimal(1).scaleb(-spec.scale))
            if kind == "le":
                return exact + 1 + k if exact + 1 + k > Decimal(bound) else exact + 2 + k
            return exact - 1 - k if exact - 1 - k < Decimal(bound) else exact - 2 - k
        edge = float(bound)
        if kind == "le":
            return edge + 0.5 + k
        return edge - 0.5 - k if kind == "ge" else edge - 0.5 * k
    if kind == "code":
        assert spec.code is not None
        return _bad_code(spec.code, row, value)
    if kind == "max_length":
        assert spec.max_length is not None
        size = spec.max_length + 1 + row % 3
        text = value if isinstance(value, str) and value else "text"
        while len(text) < size:
            text += _FILLER
        return text[:size]
    if kind == "pattern":
        return _bad_pattern(spec)
    if kind == "empty":
        return ""
    raise AssertionError(f"unknown kind {kind!r}")  # pragma: no cover


# --------------------------------------------------------------------------- built-in entities


def _pool(gen: _Gen, name: str) -> Any:
    pool = gen.ref_pool(gen.info.field(name))
    assert pool is not None, name
    return pool


def _activity(gen: _Gen, d: _Draw) -> Columns:
    theme = d.weighted("theme", _THEME_TABLE)
    kind = d.weighted("kind", _KIND_TABLE)
    city = d.weighted("city", _CITY_TABLE)
    start = d.between("start", _DAY0, _DAY1 - 4)
    themes = _THEMES.take(theme)
    meeting = pc.and_(pc.equal(kind, _KIND_MEETING), d.chance("project_group_id", 0.85))
    return {
        "activity_id": _ids("A", gen.seed, d.idx),
        "action": _THEME_ACTION.take(theme),
        "kind": _enum_array(ActivityKind, _KIND_CODES.take(kind)),
        "theme": themes,
        "title": _null_where(d.chance("title#null", 0.3), _join(_KIND_TITLE.take(kind), themes)),
        "city": _CITIES.take(city),
        "country": _CITY_COUNTRY.take(city),
        "start": _dates(start),
        "end": _dates(pc.add(start, d.below("days", 5))),
        "participants": _null_where(
            d.chance("participants#null", 0.25), d.between("participants", 5, 150)
        ),
        "project_group_id": _keep_where(meeting, d.pick("group", _pool(gen, "project_group_id"))),
        "notes": _keep_where(d.chance("notes", 0.1), d.pick("notes#text", _NOTES)),
    }


def _lab_city(seed: int, idx: Any) -> Any:
    return _Draw(seed, "laboratory", _as_u64(idx)).weighted("city", _LAB_CITY_TABLE)


def _laboratory(gen: _Gen, d: _Draw) -> Columns:
    city = _lab_city(gen.seed, d.idx)
    cities = _CITIES.take(city)
    eu = _CITY_EU.take(city)
    mobile = d.chance("mobile", 0.2)
    prefix = pc.if_else(mobile, "Mobile Customs Laboratory ", d.pick("prefix", _LAB_PREFIXES))
    status = pc.if_else(eu, pc.if_else(d.chance("observer", 0.04), 2, 0), 1)
    third = pc.equal(status, 1)
    accredited = d.chance("accredited", 0.75)
    expertise_type = gen.types["expertise"]
    counts = pc.if_else(third, len(_CRITERIA), 0)
    offsets, parents, positions = _layout(counts)
    child = d.at(pc.add(pc.multiply(pc.cast(d.idx, pa.int64()).take(parents), 16), positions))
    criteria = pa.MapArray.from_arrays(
        offsets,
        _CRITERIA.take(positions),
        child.chance("criterion", 0.8),
        type=gen.types["participation_criteria"],
    )
    return {
        "lab_id": _ids("L", gen.seed, d.idx),
        "name": _join(prefix, cities),
        "country": _CITY_COUNTRY.take(city),
        "city": _null_where(d.chance("city#null", 0.05), cities),
        "kind": _enum_array(LabKind, pc.cast(mobile, pa.int8())),
        "status": _enum_array(LabStatus, status),
        "accredited_17025": accredited,
        "accreditation_body": _keep_where(accredited, _CITY_BODY.take(city)),
        "expertise": _lists(d, "expertise", _EXPERTISE, 0, True, expertise_type, 3),
        "participation_criteria": criteria,
    }


def _sample_cn(seed: int, idx: Any) -> Any:
    d = _Draw(seed, "sample", _as_u64(idx))
    return _null_where(d.chance("declared_cn#null", 0.1), _cn_codes(d, "declared_cn"))


def _sample(gen: _Gen, d: _Draw) -> Columns:
    lab = d.below("lab", _REF_ROWS["laboratory"])
    lab_ids = _pool(gen, "lab_id")
    lab_country = _CITY_COUNTRY.take(_lab_city(gen.seed, lab))
    office = _join(lab_country, _digits(d.below("office", 1_000_000), 6))
    return {
        "sample_id": _ids("S", gen.seed, d.idx),
        "lab_id": lab_ids.take(_mod(lab, len(lab_ids))),
        "received": _dates(d.between("received", _DAY0, _DAY1)),
        "declared_cn": _sample_cn(gen.seed, d.idx),
        "customs_office": _keep_where(d.chance("customs_office", 0.75), office),
        "origin": _null_where(d.chance("origin#null", 0.15), d.pick("origin", _ORIGINS)),
        "description": _null_where(
            d.chance("description#null", 0.2), d.pick("description", _SAMPLE_DESCRIPTIONS)
        ),
    }


def _method_profile(seed: int, idx: Any) -> Any:
    return _Draw(seed, "method", _as_u64(idx)).below("profile", len(_PROFILE_ROWS))


def _profile_values(d: _Draw, stream: str, profile: Any) -> Any:
    span = _P_SPAN.take(profile)
    return pc.round(pc.add(_P_LOW.take(profile), pc.multiply(d.uniform(stream), span)), 3)


def _method_loq(seed: int, idx: Any, profile: Any) -> Any:
    """The LOQ of methods ``idx`` (their results need it): 0.2 to 1 % of the profile's span."""
    share = pc.add(pc.multiply(_Draw(seed, "method", _as_u64(idx)).uniform("loq"), 0.008), 0.002)
    return pc.round(pc.multiply(_P_SPAN.take(profile), share), 4)


def _method(gen: _Gen, d: _Draw) -> Columns:
    profile = _method_profile(gen.seed, d.idx)
    analyte, matrix = _P_ANALYTE.take(profile), _P_MATRIX.take(profile)
    technique = _P_TECHNIQUE.take(profile)
    source = d.weighted("source", _weights([3, 3, 4]))
    in_house = pc.equal(source, 2)
    status = d.weighted("status", _weights([2, 2, 5, 1]))
    # Approved (and later withdrawn) methods have an approval date; most a review date.
    approved_once = pc.greater_equal(status, 2)
    approved = d.between("approved", _days(dt.date(2010, 1, 1)), _days(dt.date(2024, 12, 31)))
    review = pc.add(approved, d.between("review", 5 * 365, 10 * 365))
    low, span = _P_LOW.take(profile), _P_SPAN.take(profile)
    loq = _method_loq(gen.seed, d.idx, profile)
    validated = d.chance("validated", 0.8)
    s_r = pc.round(pc.multiply(loq, pc.add(pc.multiply(d.uniform("s_r"), 0.5), 0.1)), 4)
    s_rr = pc.round(pc.multiply(s_r, pc.add(pc.multiply(d.uniform("s_R"), 1.5), 1.5)), 4)
    # U (k = 2) at a quarter and three quarters of the working range, 1 to 5 % of the level.
    counts = pc.if_else(validated, 2, 0)
    offsets, parents, positions = _layout(counts)
    level = pc.round(
        pc.add(
            low.take(parents),
            pc.multiply(span.take(parents), pc.add(pc.multiply(positions, 0.5), 0.25)),
        ),
        1,
    )
    relative = pc.add(pc.multiply(d.uniform("u_rel"), 0.04), 0.01).take(parents)
    levels = pa.MapArray.from_arrays(
        offsets,
        pc.cast(level, pa.string()),
        pc.round(pc.multiply(level, relative), 3),
        type=gen.types["uncertainty_by_level"],
    )
    return {
        "method_id": _ids("M", gen.seed, d.idx),
        "title": _join(analyte, " in ", matrix, " by ", technique),
        "analyte": analyte,
        "matrix": matrix,
        "technique": technique,
        "cn_chapters": _P_CHAPTERS.take(profile),
        "source": _enum_array(MethodSource, source),
        "status": _enum_array(MethodStatus, status),
        "reference": _null_where(in_house, _P_REFERENCE.take(profile)),
        "lab_id": _keep_where(d.chance("lab_id", 0.7), d.pick("lab", _pool(gen, "lab_id"))),
        "cn_codes": pa.repeat(pa.scalar([], gen.types["cn_codes"]), len(profile)),
        "version": _join(
            pc.cast(d.between("major", 1, 4), pa.string()),
            ".",
            pc.cast(d.between("minor", 0, 9), pa.string()),
        ),
        "approved": _keep_where(approved_once, _dates(approved)),
        "review_date": _keep_where(pc.and_(approved_once, d.chance("review", 0.6)), _dates(review)),
        "unit": _P_UNIT.take(profile),
        "range_low": _keep_where(validated, pc.max_element_wise(low, loq)),
        "range_high": _keep_where(validated, pc.add(low, span)),
        "lod": _keep_where(validated, pc.round(pc.divide(loq, 3.3), 4)),
        "loq": _keep_where(validated, loq),
        "repeatability_sd": _keep_where(validated, s_r),
        "reproducibility_sd": _keep_where(validated, s_rr),
        "recovery": _keep_where(
            validated, pc.round(pc.add(pc.multiply(d.uniform("recovery"), 10.0), 95.0), 1)
        ),
        "uncertainty_by_level": levels,
    }


# Where the profiles' limits come from, when they are legal ones.
_LIMIT_SOURCES = {
    "ethanol": "CN 2207 10",
    "methanol": "Regulation (EU) 2019/787, Annex I",
    "nicotine": "Directive 2014/40/EU, Article 20(3)",
    "milk fat": "CN 0402 10",
    "sulphur": "Directive 98/70/EC, Annex II",
    "cotton": "CN 5208",
    "tar": "Directive 2014/40/EU, Article 3(1)",
}
_RULES = _strings(
    [
        "guard_band(1)",
        "guard_band(1, rejection)",
        "from_risk(0.05, acceptance)",
        "from_risk(0.05, rejection)",
        "simple",
    ]
)


def _analysis_result(gen: _Gen, d: _Draw) -> Columns:
    sample = pc.divide(pc.cast(d.idx, pa.int64()), 3)
    method = d.below("method", _REF_ROWS["method"])
    methods = _pool(gen, "method_id")
    profile = _method_profile(gen.seed, method)
    value = _profile_values(d, "value", profile)
    # Below its method's LOQ a result is reported "< LOQ": the value is then the LOQ.
    loq = _method_loq(gen.seed, method, profile)
    below = pc.less(value, loq)
    value = pc.if_else(below, loq, value)
    relative = pc.add(pc.multiply(d.uniform("uncertainty"), 0.045), 0.005)
    uncertainty = pc.round(pc.abs(pc.multiply(value, relative)), 3)
    with_limit = pc.and_(_P_HAS_LIMIT.take(profile), d.chance("limit", 0.6))
    declared = _sample_cn(gen.seed, sample)
    same = pc.and_(d.chance("cn_same", 0.85), pc.is_valid(declared))
    found = pc.if_else(same, declared, _cn_codes(d, "cn_found"))
    analyte = _P_ANALYTE.take(profile)
    sources = _strings([_LIMIT_SOURCES.get(p[0]) for p in _PROFILE_ROWS]).take(profile)
    # The rule: none stated (the default) half the time; customs limits on the rejection side.
    customs = pc.fill_null(pc.equal(sources, "CN 2207 10"), False)
    rule = pc.if_else(customs, "guard_band(1, rejection)", d.pick("rule", _RULES))
    received = _Draw(gen.seed, "sample", _as_u64(sample)).between("received", _DAY0, _DAY1)
    analysed = pc.add(received, d.between("analysed", 1, 30))
    return {
        "result_id": _ids("R", gen.seed, d.idx),
        "sample_id": _ids("S", gen.seed, sample),
        "method_id": methods.take(_mod(method, len(methods))),
        "analyte": analyte,
        "value": value,
        "unit": _P_UNIT.take(profile),
        "expanded_uncertainty": _null_where(d.chance("uncertainty#null", 0.1), uncertainty),
        "coverage_factor": pc.if_else(d.chance("k", 0.9), 2.0, 1.96),
        "limit": _keep_where(with_limit, _P_LIMIT.take(profile)),
        "limit_type": _keep_where(with_limit, _enum_array(LimitType, _P_LIMIT_TYPE.take(profile))),
        "cn_found": _keep_where(d.chance("cn_found#given", 0.8), found),
        "limit_high": pa.nulls(len(value), pa.float64()),
        "limit_source": _keep_where(with_limit, sources),
        "decision_rule": _keep_where(pc.and_(with_limit, d.chance("rule#given", 0.5)), rule),
        "less_than": below,
        "analysed": _null_where(d.chance("analysed#null", 0.2), _dates(analysed)),
    }


def _substance(gen: _Gen, d: _Draw) -> Columns:
    names_type = gen.types["names"]
    name = d.below("name", len(_SUBSTANCE_NAMES))
    names = _SUB_NAME.take(name)
    # Names: English first (with a synonym 40 % of the time), then 0–2 other languages.
    languages = d.between("languages", 1, 3)
    offsets, parents, positions = _layout(languages)
    start = d.below("language", len(_OTHER_LANGUAGES)).take(parents)
    other = _OTHER_LANGUAGES.take(_mod(pc.add(start, positions), len(_OTHER_LANGUAGES)))
    first = pc.equal(positions, 0)
    keys = pc.if_else(first, "en", other)
    synonym = pc.and_(first, d.chance("synonym", 0.4).take(parents))
    item_counts = pc.add(pc.cast(synonym, pa.int32()), 1)
    item_offsets, item_parents, item_positions = _layout(item_counts)
    rows = parents.take(item_parents)
    item = pc.if_else(
        pc.equal(item_positions, 0), names.take(rows), _SUB_SYNONYM.take(name.take(rows))
    )
    values = pa.ListArray.from_arrays(item_offsets, item, type=names_type.item_type)
    inchi = _join(
        "InChI=1S/C", pc.cast(d.between("inchi.c", 1, 30), pa.string()),
        "H", pc.cast(d.between("inchi.h", 2, 60), pa.string()),
        "O", pc.cast(d.between("inchi.o", 1, 6), pa.string()), "/c1-2-3/h3H,2H2,1H3",
    )  # fmt: skip
    return {
        "cus": _cus_keys(gen.seed, d.idx),
        "cas": _keep_where(d.chance("cas", 0.85), _cas_random(d, "cas#value")),
        "ec": _keep_where(d.chance("ec", 0.6), _ec_numbers(d, "ec#value")),
        "un": _keep_where(d.chance("un", 0.25), d.pick("un#value", _UN_NUMBERS)),
        "cn_code": _keep_where(
            d.chance("cn_code", 0.7), _cn_codes(d, "cn_code#value", _chemical_subheadings())
        ),
        "names": pa.MapArray.from_arrays(offsets, keys, values, type=names_type),
        "inn": _keep_where(d.chance("inn", 0.05), d.pick("inn#value", _INNS)),
        "iso_name": _keep_where(d.chance("iso_name", 0.05), d.pick("iso#value", _ISO_NAMES)),
        "iupac_name": _keep_where(d.chance("iupac", 0.7), names),
        "inchi": _keep_where(d.chance("inchi", 0.3), inchi),
        "characteristics": _keep_where(
            d.chance("characteristics", 0.2), d.pick("characteristics#value", _CHARACTERISTICS)
        ),
    }


def _study_profile(seed: int, idx: Any) -> tuple[Any, Any]:
    """Profile and central value of PT studies."""
    d = _Draw(seed, "pt_study", _as_u64(idx))
    profile = d.below("profile", len(_PROFILE_ROWS))
    return profile, _profile_values(d, "value", profile)


def _pt_study(gen: _Gen, d: _Draw) -> Columns:
    profile, value = _study_profile(gen.seed, d.idx)
    analyte, matrix = _P_ANALYTE.take(profile), _P_MATRIX.take(profile)
    closing = d.between("closing_date", _DAY0, _DAY1)
    year = pc.cast(pc.year(_dates(closing)), pa.string())
    assigned = d.chance("assigned", 0.5)
    sigma = pc.add(
        pc.multiply(_P_SPAN.take(profile), pc.add(pc.multiply(d.uniform("s"), 0.04), 0.01)), 1e-3
    )
    return {
        "study_id": _ids("PT", gen.seed, d.idx),
        "title": _join(analyte, " in ", matrix, ": inter-laboratory comparison ", year),
        "purpose": _enum_array(PTPurpose, d.weighted("purpose", _weights([2, 2, 6]))),
        "analyte": analyte,
        "unit": _P_UNIT.take(profile),
        "matrix": _null_where(d.chance("matrix#null", 0.1), matrix),
        "closing_date": _null_where(d.chance("closing#null", 0.1), _dates(closing)),
        "coordinator_lab": _keep_where(
            d.chance("coord", 0.8), d.pick("coord#lab", _pool(gen, "coordinator_lab"))
        ),
        "assigned_value": _keep_where(assigned, value),
        "sigma_pt": _keep_where(pc.and_(assigned, d.chance("sigma", 0.8)), pc.round(sigma, 4)),
        # Quantitative, one result per laboratory: what the benchmarks and trials need.
        "kind": _enum_array(ResultKind, _zeros(d)),
        "replicates": pc.add(_zeros(d), 1),
        "assigned_uncertainty": _keep_where(assigned, pc.round(pc.multiply(sigma, 0.2), 4)),
        "assigned_value_source": _keep_where(
            assigned,
            _enum_array(AssignedValueSource, d.below("source", 4)),
        ),
        "estimator": _enum_array(RobustEstimator, _zeros(d)),
        "assigned_category": pa.nulls(d.n, pa.string()),
        "ordinal_scale": pa.array([[]] * d.n, pa.list_(pa.string())),
        "sigma_pt_relative": pa.nulls(d.n, pa.float64()),
        "sigma_pt_source": _keep_where(
            pc.equal(_zeros(d), 1), _enum_array(SigmaPtSource, _zeros(d))
        ),
        "reproducibility_sd": pa.nulls(d.n, pa.float64()),
        "repeatability_sd": pa.nulls(d.n, pa.float64()),
        "delta_e": pa.nulls(d.n, pa.float64()),
        "homogeneity_uncertainty": pa.nulls(d.n, pa.float64()),
        "stability_uncertainty": pa.nulls(d.n, pa.float64()),
    }


def _pt_result(gen: _Gen, d: _Draw) -> Columns:
    i = pc.cast(d.idx, pa.int64())
    study = pc.divide(i, _PT_BLOCK)
    labs = _pool(gen, "lab_id")
    offset = _Draw(gen.seed, "pt_result", _as_u64(study)).below("labs", len(labs))
    lab = _mod(pc.add(_mod(i, _PT_BLOCK), offset), len(labs))
    _, centre = _study_profile(gen.seed, study)
    noise = pc.subtract(
        pc.add(pc.add(d.uniform("n1"), d.uniform("n2")), d.uniform("n3")), 1.5
    )  # roughly normal, sd 0.5
    spread = pc.if_else(d.chance("outlier", 0.05), 0.25, 0.04)
    value = pc.round(pc.multiply(centre, pc.add(1.0, pc.multiply(noise, spread))), 3)
    relative = pc.add(pc.multiply(d.uniform("u"), 0.02), 0.005)
    return {
        "study_id": _ids("PT", gen.seed, study),
        "lab_id": labs.take(lab),
        "value": value,
        # Expanded uncertainties with k = 2 mostly, as laboratories report them.
        "expanded_uncertainty": _null_where(
            d.chance("u#null", 0.2),
            pc.round(pc.abs(pc.multiply(value, pc.multiply(relative, 2.0))), 4),
        ),
        "coverage_factor": pc.if_else(d.chance("k", 0.85), 2.0, 1.96),
        "replicate": pc.add(_zeros(d), 1),
        "censoring": _keep_where(pc.equal(_zeros(d), 1), _enum_array(Censoring, _zeros(d))),
        "category": pa.nulls(d.n, pa.string()),
        "method_id": pa.nulls(d.n, pa.string()),
    }


def _action(gen: _Gen, d: _Draw) -> Columns:
    i = _mod(pc.cast(d.idx, pa.int64()), len(_ACTIONS_ROWS))
    return {
        "number": pc.add(i, 1),
        "name": _strings([r[0] for r in _ACTIONS_ROWS]).take(i),
        "coordinator": _strings([r[1] for r in _ACTIONS_ROWS]).take(i),
        "coordinator_country": _strings([r[2] for r in _ACTIONS_ROWS]).take(i),
        "description": pa.nulls(d.n, pa.string()),
    }


def _objective_ids(seed: int, idx: Any) -> Any:
    i = pc.cast(idx, pa.int64())
    strategic = pc.cast(pc.add(pc.divide(i, _OBJECTIVE_BLOCK), 1), pa.string())
    return _join(strategic, _OBJ_SUFFIX.take(_mod(i, _OBJECTIVE_BLOCK)))


def _objective(gen: _Gen, d: _Draw) -> Columns:
    i = pc.cast(d.idx, pa.int64())
    position = _mod(i, _OBJECTIVE_BLOCK)
    strategic = pc.cast(pc.add(pc.divide(i, _OBJECTIVE_BLOCK), 1), pa.string())
    return {
        "objective_id": _objective_ids(gen.seed, d.idx),
        "level": _enum_array(ObjectiveLevel, pc.if_else(pc.equal(position, 0), 0, 1)),
        "title": d.pick("title", _OBJECTIVE_TITLES),
        "parent": _join(strategic, _OBJ_PARENT.take(position)),  # null for strategic ones
    }


_MS_COUNTRY = _strings([c for c, _, _ in MEMBER_STATES])


def _member_state_keys(seed: int, idx: Any) -> Any:
    return _MS_COUNTRY.take(_mod(pc.cast(idx, pa.int64()), len(MEMBER_STATES)))


def _member_state(gen: _Gen, d: _Draw) -> Columns:
    i = _mod(pc.cast(d.idx, pa.int64()), len(MEMBER_STATES))
    countries = _MS_COUNTRY.take(i)
    return {
        "country": countries,
        "name": _strings([n for _, n, _ in MEMBER_STATES]).take(i),
        "joined": pa.array([y for _, _, y in MEMBER_STATES], pa.int64()).take(i),
        "eu_code": pc.if_else(pc.equal(countries, "GR"), "EL", pa.scalar(None, pa.string())),
    }


def _ids_fn(prefix: str) -> KeyFn:
    return lambda seed, idx: _ids(prefix, seed, idx)


_CUSTOM: dict[str, Callable[[_Gen, _Draw], Columns]] = {
    "activity": _activity,
    "laboratory": _laboratory,
    "sample": _sample,
    "method": _method,
    "analysis_result": _analysis_result,
    "substance": _substance,
    "pt_study": _pt_study,
    "pt_result": _pt_result,
    "action": _action,
    "objective": _objective,
    "member_state": _member_state,
}

_CUSTOM_KEYS: dict[str, dict[str, KeyFn]] = {
    "activity": {"activity_id": _ids_fn("A")},
    "laboratory": {"lab_id": _ids_fn("L")},
    "sample": {"sample_id": _ids_fn("S")},
    "method": {"method_id": _ids_fn("M")},
    "analysis_result": {"result_id": _ids_fn("R")},
    "substance": {"cus": _cus_keys},
    "pt_study": {"study_id": _ids_fn("PT")},
    "pt_result": {},
    "action": {"number": lambda seed, idx: pc.add(_mod(pc.cast(idx, pa.int64()), 6), 1)},
    "objective": {"objective_id": _objective_ids},
    "member_state": {"country": _member_state_keys},
}
