from .h5p import H5PLibrary, H5PPackage

__all__ = ["H5PLibrary", "H5PPackage"]
