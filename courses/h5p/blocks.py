"""The H5P chooser block under the path the lesson migrations name (`courses.h5p.blocks`);
it is defined with the other lesson blocks in courses/models/blocks.py."""

from courses.models.blocks import H5PChooserBlock

__all__ = ["H5PChooserBlock"]
