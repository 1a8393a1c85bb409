from .catalog import BarcodeSequence, Item, MarcImportJob, Record
from .circulation import CirculationRule, Hold, InterLibraryLoan, Loan, Transfer
from .network import JoinRequest, Library, Membership, NetworkPage, Role
from .patrons import Patron, PatronCategory, PatronSequence, RegistrationRequest
from .stocktake import Stocktake, StocktakeScan

__all__ = [
    "BarcodeSequence",
    "CirculationRule",
    "Hold",
    "InterLibraryLoan",
    "Item",
    "JoinRequest",
    "Library",
    "Loan",
    "MarcImportJob",
    "Membership",
    "NetworkPage",
    "Patron",
    "PatronCategory",
    "PatronSequence",
    "Record",
    "RegistrationRequest",
    "Role",
    "Stocktake",
    "StocktakeScan",
    "Transfer",
]
