from .activity import (
    AccountSnapshot,
    DailyAccountActivity,
    ExchangeFeeRate,
    FuturesProduct,
    ImportBatch,
    SnapshotCorrection,
    Trade,
)
from .core import (
    Account,
    Branch,
    Client,
    Interaction,
    Prospect,
    StaffProfile,
    Task,
)

__all__ = [
    "Account",
    "AccountSnapshot",
    "Branch",
    "Client",
    "DailyAccountActivity",
    "ExchangeFeeRate",
    "FuturesProduct",
    "ImportBatch",
    "Interaction",
    "Prospect",
    "SnapshotCorrection",
    "StaffProfile",
    "Task",
    "Trade",
]
