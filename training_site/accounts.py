"""django-allauth adjustments: students created by their teacher have no email to verify;
failed logins lock the account that was tried, not the school's shared address; the one
reading of the mobile app's session token (X-Session-Token)."""

from allauth.account import app_settings, stages
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal import userkit
from allauth.account.models import EmailAddress
from allauth.core.internal import ratelimit
from allauth.headless.internal.sessionkit import authenticate_by_x_session_token
from django.contrib.sites.shortcuts import get_current_site

_ALLAUTH_STAGE = "allauth.account.stages.EmailVerificationStage"

# The header that carries allauth's app session token (headless login, docs/API.md).
SESSION_TOKEN_HEADER = "X-Session-Token"  # noqa: S105 - a header's name


def session_token_user(token: str | None):
    """The active account whose allauth app session `token` is, else None (no token, an
    unknown, expired or logged-out one, a deactivated account). The mobile API and the xAPI
    endpoint both read the token here."""
    if not token:
        return None
    found = authenticate_by_x_session_token(token)
    if found is None or not found[0].is_active:
        return None
    return found[0]


class EmailVerificationStage(stages.EmailVerificationStage):
    """Mandatory verification, except for accounts that have no email address at all."""

    def handle(self):
        user = self.login.user
        if not user.email and not EmailAddress.objects.filter(user=user).exists():
            return None, True
        return super().handle()


def _accounts_tried(credentials: dict) -> set:
    """The accounts whose password a login form checks: those the login names as an email
    address, and the one it names as a username (the same lookups as allauth's backend)."""
    found = set()
    for login in {credentials.get("email"), credentials.get("username")} - {None, ""}:
        found.update(
            user.pk
            for user in userkit.filter_users_by_email(login, prefer_verified=True, for_login=True)
        )
    username = credentials.get("username")
    if username and (user := userkit.get_user_by_username(username)):
        found.add(user.pk)
    return found


def _per_account_rates() -> str:
    rates = app_settings.RATE_LIMITS.get("login_failed") or ""
    return ",".join(part for part in rates.split(",") if part.strip().endswith("/key"))


class AccountAdapter(DefaultAccountAdapter):
    def get_login_stages(self) -> list[str]:
        return [
            "training_site.accounts.EmailVerificationStage" if stage == _ALLAUTH_STAGE else stage
            for stage in super().get_login_stages()
        ]

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        """Failed logins count per account, whichever of its names (username or email) was
        typed; a login that names no single account counts under what was typed."""
        accounts = _accounts_tried(credentials)
        if len(accounts) == 1:
            return f"{get_current_site(request).domain}:account:{accounts.pop()}"
        return super()._get_login_attempts_cache_key(request, **credentials)

    def _delete_login_attempts_cached_email(self, request, **credentials) -> None:
        """A password reset lifts the account's lock but not its address's ceiling, which
        allauth would wipe too: else resetting one's own password would reopen the address
        to another thousand guesses at other accounts."""
        key = self._get_login_attempts_cache_key(request, **credentials)
        ratelimit.clear(
            request,
            app="allauth.account",
            action="login_failed",
            config={"login_failed": _per_account_rates()},
            key=key,
        )
