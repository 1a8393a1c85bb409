"""Template helpers of the training pages."""

from django import template
from django.conf import settings

from courses.training.activities import activity_iri as build_activity_iri
from courses.training.progress import grade_quiz

register = template.Library()


@register.simple_tag(takes_context=True)
def activity_iri(context, lesson, block_id):
    """The xAPI object IRI of an activity block, on the host serving this request."""
    request = context.get("request")
    base = request if request is not None else settings.WAGTAILADMIN_BASE_URL
    return build_activity_iri(base, lesson, block_id)


@register.filter
def get_item(mapping, key):
    if not mapping:
        return None
    return mapping.get(key)


@register.filter
def percent(value):
    """0..1 score to a whole percentage."""
    if value is None:
        return ""
    return round(value * 100)


@register.simple_tag
def quiz_view(quiz, progress=None):
    """What the quiz form shows: questions, choices (never which are correct), last answers.

    After an attempt each question is marked right or wrong, without naming the right choice.
    """
    last = (progress.last_answers if progress else None) or {}
    verdicts = grade_quiz(quiz, last)[2] if last else []
    questions = []
    for q_index, question in enumerate(quiz["questions"]):
        chosen = {int(i) for i in last.get(str(q_index), []) if str(i).isdigit()}
        questions.append(
            {
                "number": q_index + 1,
                "name": f"q-{q_index}",
                "text": question["question"],
                "multiple": question["kind"] == "multiple",
                "choices": [
                    {"index": c_index, "text": choice["text"], "checked": c_index in chosen}
                    for c_index, choice in enumerate(question["choices"])
                ],
                "verdict": verdicts[q_index] if verdicts else None,
                "explanation": question["explanation"] if verdicts else "",
            }
        )
    return {"questions": questions, "attempted": bool(last)}
