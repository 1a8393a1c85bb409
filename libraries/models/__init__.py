from .catalog import BarcodeSequence, Item, MarcImportJob, Record, Shelf
from .circulation import (
    CirculationRule,
    Hold,
    InterLibraryLoan,
    Loan,
    NoticeKind,
    NoticeTemplate,
    Transfer,
)
from .digital import DigitalFile, DigitalLoan, DigitalText, DigitalWordPlace, ExternalLink
from .harvest import HarvestedItem, HarvestedRecord, HarvestRun, HarvestSource
from .network import Invitation, JoinRequest, Library, Membership, NetworkPage, Role
from .patrons import Patron, PatronCategory, PatronSequence, RegistrationRequest
from .reading import ReadingPosition
from .stocktake import Stocktake, StocktakeScan

__all__ = [
    "BarcodeSequence",
    "CirculationRule",
    "DigitalFile",
    "DigitalLoan",
    "DigitalText",
    "DigitalWordPlace",
    "ExternalLink",
    "HarvestRun",
    "HarvestSource",
    "HarvestedItem",
    "HarvestedRecord",
    "Hold",
    "InterLibraryLoan",
    "Invitation",
    "Item",
    "JoinRequest",
    "Library",
    "Loan",
    "MarcImportJob",
    "Membership",
    "NetworkPage",
    "NoticeKind",
    "NoticeTemplate",
    "Patron",
    "PatronCategory",
    "PatronSequence",
    "ReadingPosition",
    "Record",
    "RegistrationRequest",
    "Role",
    "Shelf",
    "Stocktake",
    "StocktakeScan",
    "Transfer",
]
