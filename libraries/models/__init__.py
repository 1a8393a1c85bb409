from .catalog import BarcodeSequence, Item, Record
from .network import JoinRequest, Library, Membership, NetworkPage, Role

__all__ = [
    "BarcodeSequence",
    "Item",
    "JoinRequest",
    "Library",
    "Membership",
    "NetworkPage",
    "Record",
    "Role",
]
