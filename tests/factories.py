import factory
from django.contrib.auth import get_user_model

from libraries.models import Library, Membership, Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.django.Password("matkhau-an-toan-2026")


class LibraryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Library

    code = factory.Sequence(lambda n: f"LIB{n:03d}")
    name = factory.Sequence(lambda n: f"Thư viện {n}")
    kind = Library.Kind.SCHOOL


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    library = factory.SubFactory(LibraryFactory)
    role = Role.LIBRARIAN
