"""Where results arrive: the H5P player's xAPI statements and the native quiz form.

POST /api/xapi/statements takes the xAPI statements of the H5P player (one or a list).

Who sends them: the browser with the site's session cookie (then Django's CSRF check applies,
as for any form), or the mobile app with its allauth session token in X-Session-Token, read
as the API reads it (training_site/accounts.py); no cookie is involved then, so there is no
CSRF check, and a token that is unknown, expired or logged out is a 401. Body at most 64 KB.
The actor is the logged-in account; any actor in the body is replaced. Answers like an LRS:
200 with the list of stored statement ids; 4xx with {"error": reason} and nothing stored
otherwise.

The native quiz form stays the browser's: it answers with the lesson page and its messages.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from courses.models import LessonPage
from courses.training.activities import activity_page_url, site_base
from courses.training.progress import ProgressError
from courses.xapi.services import record_statements, seconds_since, submit_quiz
from courses.xapi.statements import MAX_BODY_BYTES, StatementError, load_statements
from training_site.accounts import SESSION_TOKEN_HEADER, session_token_user


def _error(reason: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": reason}, status=status)


@csrf_exempt  # a token request has no cookie to forge; a cookie request is checked below
@require_POST
def xapi_statements(request):
    if SESSION_TOKEN_HEADER in request.headers:
        user = session_token_user(request.headers[SESSION_TOKEN_HEADER])
        if user is None:
            return _error("invalid or expired session token: log in again", 401)
        return _store(request, user)
    return _store_for_session(request)


@csrf_protect
def _store_for_session(request):
    if not request.user.is_authenticated:
        return _error("log in first", 403)
    return _store(request, request.user)


def _store(request, user):
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _error("invalid Content-Length")
    if length > MAX_BODY_BYTES:
        return _error(f"body larger than {MAX_BODY_BYTES} bytes", 413)
    if request.content_type != "application/json":
        return _error("send the statements as application/json", 415)
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return _error(f"body larger than {MAX_BODY_BYTES} bytes", 413)
    try:
        statements = load_statements(body)
        stored = record_statements(user=user, statements=statements, base=site_base(request))
    except StatementError as exc:
        return _error(str(exc))
    return JsonResponse([str(statement.statement_id) for statement in stored], safe=False)


@login_required
@require_POST
def submit_quiz_view(request, lesson_id: int, block_id: str):
    lesson = get_object_or_404(LessonPage.objects.live(), pk=lesson_id)
    answers = {}
    for key in request.POST:
        if key.startswith("q-") and key[2:].isdigit():
            answers[int(key[2:])] = request.POST.getlist(key)[:10]
    try:
        result = submit_quiz(
            user=request.user,
            lesson=lesson,
            block_id=block_id,
            answers=answers,
            base=site_base(request),
            seconds=seconds_since(request.POST.get("started")),
        )
    except ProgressError as exc:
        messages.error(request, str(exc))
    else:
        text = _("You answered %(correct)s of %(total)s questions correctly.") % {
            "correct": result.correct,
            "total": result.total,
        }
        if result.passed is True:
            messages.success(request, text + " " + _("You passed."))
        elif result.passed is False:
            messages.warning(request, text + " " + _("Not passed yet: try again."))
        else:
            messages.success(request, text)
    return redirect(activity_page_url(lesson, "quiz", block_id))
