"""The integration's models, as Django finds them: each lives with its capability
(`connections.models`, `payments.models`); this module only hands them on."""

from .connections.models import (
    AR_CATEGORIES,
    SAGE_OBJECT_OF_TARGET,
    TMS_FIELDS,
    AccountMapping,
    AdvancedSettings,
    APSettings,
    ARSettings,
    Category,
    Connection,
    CustomFieldMapping,
    CustomFieldTarget,
    CustomPaymentTerm,
    Dimension,
    DimensionMapping,
    DimensionSource,
    DimensionValueMap,
    Side,
)
from .payments.models import PaymentDetailStage, PaymentImportRun

__all__ = [
    "AR_CATEGORIES",
    "SAGE_OBJECT_OF_TARGET",
    "TMS_FIELDS",
    "APSettings",
    "ARSettings",
    "AccountMapping",
    "AdvancedSettings",
    "Category",
    "Connection",
    "CustomFieldMapping",
    "CustomFieldTarget",
    "CustomPaymentTerm",
    "Dimension",
    "DimensionMapping",
    "DimensionSource",
    "DimensionValueMap",
    "PaymentDetailStage",
    "PaymentImportRun",
    "Side",
]
