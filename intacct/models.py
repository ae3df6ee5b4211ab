"""The integration's models, as Django finds them: each lives with its capability
(`connections.models`, `payments.models`, `monitoring.models`, `notifications.models`,
`reconcile.models`); this module only hands them on."""

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
from .monitoring.models import MonitorState
from .notifications.models import NotificationEndpoint, PaymentNotification
from .payments.models import PaymentDetailStage, PaymentImportRun
from .reconcile.models import ReconcileFinding, ReconcileRun

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
    "MonitorState",
    "NotificationEndpoint",
    "PaymentDetailStage",
    "PaymentImportRun",
    "PaymentNotification",
    "ReconcileFinding",
    "ReconcileRun",
    "Side",
]
