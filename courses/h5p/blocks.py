"""The chooser block for H5P packages; the lesson's H5P activity block (courses/blocks.py)
uses it, and its template plays the package with `{% h5p_player %}`."""

from courses.h5p.chooser import h5p_chooser_viewset

H5PChooserBlock = h5p_chooser_viewset.get_block_class(
    name="H5PChooserBlock", module_path="courses.h5p.blocks"
)
