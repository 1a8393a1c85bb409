from .catalog import BarcodeSequence, Item, MarcImportJob, Record
from .network import JoinRequest, Library, Membership, NetworkPage, Role

__all__ = [
    "BarcodeSequence",
    "Item",
    "JoinRequest",
    "Library",
    "MarcImportJob",
    "Membership",
    "NetworkPage",
    "Record",
    "Role",
]
