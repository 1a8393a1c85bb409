"""django-allauth adjustments: students created by their teacher have no email to verify."""

from allauth.account import stages
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress

_ALLAUTH_STAGE = "allauth.account.stages.EmailVerificationStage"


class EmailVerificationStage(stages.EmailVerificationStage):
    """Mandatory verification, except for accounts that have no email address at all."""

    def handle(self):
        user = self.login.user
        if not user.email and not EmailAddress.objects.filter(user=user).exists():
            return None, True
        return super().handle()


class AccountAdapter(DefaultAccountAdapter):
    def get_login_stages(self) -> list[str]:
        return [
            "training_site.accounts.EmailVerificationStage" if stage == _ALLAUTH_STAGE else stage
            for stage in super().get_login_stages()
        ]
