"""The domain model: every entity class, its enums, and the machinery that declares them."""

# isort: off
# Import order is registration order: the order entities are listed in docs and the CLI.
from clen_core.model.entity import (
    EntityInfo,
    Ordered,
    Together,
    UnknownEntityError,
    entities,
    entity,
    get_entity,
    register_entity,
)
from clen_core.model.fields import FieldInfo, Spec, field
from clen_core.model.network import (
    Action,
    LabKind,
    LabStatus,
    Laboratory,
    MemberState,
    ProjectGroup,
)
from clen_core.model.activities import Activity, ActivityKind
from clen_core.model.science import (
    AnalysisResult,
    Method,
    MethodSource,
    MethodStatus,
    Sample,
    Substance,
)
from clen_core.model.proficiency import (
    AssignedValueSource,
    Censoring,
    PTPurpose,
    PTResult,
    PTRound,
    PTScore,
    PTStudy,
    ResultKind,
    RobustEstimator,
    ScoreClass,
    ScoreName,
    SigmaPtSource,
)
from clen_core.model.enforcement import ActionPlanItem, ItemStatus, Objective, ObjectiveLevel
from clen_core.model.programme import FundedAction, FundedActionType, Programme
from clen_core.model.cooperation import AttachePost, InformationExchange, Partner, PartnerKind
from clen_core.model.dataset import Dataset, DuplicateKeyError
# isort: on

__all__ = [
    "Action",
    "ActionPlanItem",
    "Activity",
    "ActivityKind",
    "AnalysisResult",
    "AssignedValueSource",
    "AttachePost",
    "Censoring",
    "Dataset",
    "DuplicateKeyError",
    "EntityInfo",
    "FieldInfo",
    "FundedAction",
    "FundedActionType",
    "InformationExchange",
    "ItemStatus",
    "LabKind",
    "LabStatus",
    "Laboratory",
    "MemberState",
    "Method",
    "MethodSource",
    "MethodStatus",
    "Objective",
    "ObjectiveLevel",
    "Ordered",
    "PTPurpose",
    "PTResult",
    "PTRound",
    "PTScore",
    "PTStudy",
    "Partner",
    "PartnerKind",
    "Programme",
    "ProjectGroup",
    "ResultKind",
    "RobustEstimator",
    "Sample",
    "ScoreClass",
    "ScoreName",
    "SigmaPtSource",
    "Spec",
    "Substance",
    "Together",
    "UnknownEntityError",
    "entities",
    "entity",
    "field",
    "get_entity",
    "register_entity",
]
