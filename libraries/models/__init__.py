from .network import JoinRequest, Library, Membership, NetworkPage, Role

__all__ = ["JoinRequest", "Library", "Membership", "NetworkPage", "Role"]
