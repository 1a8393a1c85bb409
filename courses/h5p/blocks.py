"""StreamField blocks for H5P activities (LessonPage puts H5PActivityBlock in its body).

In a page template, give the player the block id so each block is its own xAPI activity:

    {% load h5p_player %}
    {% for block in page.body %}
      {% if block.block_type == "h5p" %}
        {% h5p_player block.value.package block_id=block.id %}
      {% else %}{% include_block block %}{% endif %}
    {% endfor %}

(`{% include_block block %}` also works; it renders the package without a block id.)
"""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks

from courses.admin_h5p import h5p_chooser_viewset

H5PChooserBlock = h5p_chooser_viewset.get_block_class(
    name="H5PChooserBlock", module_path="courses.h5p.blocks"
)


class H5PActivityBlock(blocks.StructBlock):
    package = H5PChooserBlock(label=_("H5P activity"))
    required = blocks.BooleanBlock(
        label=_("Required to complete the lesson"), default=True, required=False
    )
    pass_mark = blocks.IntegerBlock(
        label=_("Pass mark (%)"),
        required=False,
        min_value=0,
        max_value=100,
        help_text=_("Leave empty to count any completed attempt."),
    )

    class Meta:
        icon = "media"
        label = _("H5P activity")
        template = "courses/h5p/activity_block.html"
