import factory
from django.contrib.auth import get_user_model

from libraries.models import JoinRequest, Library, Membership, Role

PASSWORD = "matkhau-an-toan-2026"  # every UserFactory user's password


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.django.Password(PASSWORD)


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


def member(library, role, **user_fields):
    """A new user (UserFactory with `user_fields`) holding `role` at `library`."""
    user = UserFactory(**user_fields)
    MembershipFactory(user=user, library=library, role=role)
    return user


class JoinRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JoinRequest

    school_name = factory.Sequence(lambda n: f"Trường THCS Số {n}")
    address = "Xã Thử Nghiệm"
    contact_name = "Cô Lan"
    contact_email = factory.Sequence(lambda n: f"lan{n}@truong.example.org")
    contact_phone = "0912 345 678"
    parent = factory.SubFactory(LibraryFactory, kind=Library.Kind.DISTRICT)
