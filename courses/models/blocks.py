"""StreamField blocks of lessons and guides, and the H5P package chooser they use.

Part of the page schema, so they sit with the models. The native quiz is graded on the
server (courses/xapi/services.py: submit_quiz); its template never prints which choices are
correct. The H5P activity's template plays the package with `{% h5p_player %}`.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.admin.viewsets.chooser import ChooserViewSet
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images.blocks import ImageBlock


class H5PPackageChooserViewSet(ChooserViewSet):
    model = "courses.H5PPackage"
    icon = "media"
    choose_one_text = _("Choose an H5P activity")
    choose_another_text = _("Choose another H5P activity")
    edit_item_text = _("Edit this H5P activity")
    url_prefix = "h5p-chooser"
    name = "h5p_chooser"


h5p_chooser_viewset = H5PPackageChooserViewSet()
# Migrations name the block by the path it has always had.
H5PChooserBlock = h5p_chooser_viewset.get_block_class(
    name="H5PChooserBlock", module_path="courses.h5p.blocks"
)

RICH_TEXT_FEATURES = ["h2", "h3", "bold", "italic", "link", "ol", "ul", "hr", "document-link"]


def required_block():
    """Whether an activity must be completed (and passed) for its lesson to be complete."""
    return blocks.BooleanBlock(
        label=_("required to complete the lesson"), required=False, default=True
    )


def pass_mark_block(*, help_text):
    return blocks.IntegerBlock(
        label=_("pass mark (%)"), required=False, min_value=0, max_value=100, help_text=help_text
    )


class H5PActivityBlock(blocks.StructBlock):
    """An H5P activity inside a lesson; its xAPI statements update the learner's progress."""

    package = H5PChooserBlock(label=_("H5P package"))
    required = required_block()
    pass_mark = pass_mark_block(help_text=_("Leave empty when finishing the activity is enough."))

    class Meta:
        icon = "media"
        label = _("H5P activity")
        template = "courses/blocks/h5p_activity.html"


class QuizChoiceBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("answer"), max_length=300)
    correct = blocks.BooleanBlock(label=_("correct"), required=False, default=False)

    class Meta:
        icon = "tick"
        label = _("answer")


class QuizQuestionBlock(blocks.StructBlock):
    class Kind:
        SINGLE = "single"
        MULTIPLE = "multiple"

    question = blocks.CharBlock(label=_("question"), max_length=500)
    kind = blocks.ChoiceBlock(
        label=_("kind"),
        choices=[
            ("single", _("One correct answer")),
            ("multiple", _("Several correct answers")),
        ],
        default="single",
    )
    choices = blocks.ListBlock(QuizChoiceBlock(), label=_("answers"), min_num=2, max_num=8)
    explanation = blocks.TextBlock(
        label=_("explanation shown after answering"), required=False, max_length=1000
    )

    class Meta:
        icon = "help"
        label = _("question")

    def clean(self, value):
        value = super().clean(value)
        correct = sum(1 for choice in value["choices"] if choice["correct"])
        if correct == 0:
            raise ValidationError(_("Mark at least one answer as correct."))
        if value["kind"] == "single" and correct != 1:
            raise ValidationError(
                _("A question with one correct answer must have exactly one correct answer.")
            )
        return value


class QuizBlock(blocks.StructBlock):
    """A native single/multiple-choice quiz that needs no H5P. Graded on the server."""

    title = blocks.CharBlock(label=_("title"), max_length=200, required=False)
    questions = blocks.ListBlock(QuizQuestionBlock(), label=_("questions"), min_num=1)
    required = required_block()
    pass_mark = pass_mark_block(help_text=_("Leave empty when answering is enough."))

    class Meta:
        icon = "list-ul"
        label = _("quiz")
        template = "courses/blocks/quiz.html"


class LessonStreamBlock(blocks.StreamBlock):
    text = blocks.RichTextBlock(label=_("text"), features=RICH_TEXT_FEATURES)
    image = ImageBlock(label=_("image"))
    video = EmbedBlock(
        label=_("video"), help_text=_("Address of a video page, e.g. on YouTube."), icon="media"
    )
    document = blocks.StructBlock(
        [
            ("document", DocumentChooserBlock(label=_("document"))),
            ("title", blocks.CharBlock(label=_("link text"), required=False, max_length=200)),
        ],
        label=_("document download"),
        icon="doc-full",
        template="courses/blocks/document.html",
    )
    h5p = H5PActivityBlock()
    quiz = QuizBlock()


ACTIVITY_BLOCK_TYPES = ("h5p", "quiz")


class GuideStepBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("step title"), max_length=200)
    text = blocks.RichTextBlock(label=_("what to do"), features=RICH_TEXT_FEATURES)
    image = ImageBlock(label=_("picture"), required=False)

    class Meta:
        icon = "list-ol"
        label = _("step")
        template = "courses/blocks/guide_step.html"


class GuideStreamBlock(blocks.StreamBlock):
    step = GuideStepBlock()
    text = blocks.RichTextBlock(label=_("text"), features=RICH_TEXT_FEATURES)
    image = ImageBlock(label=_("image"))
    video = EmbedBlock(label=_("video"), icon="media")
