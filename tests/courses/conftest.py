import pytest

from tests.courses.classes.factories import network


@pytest.fixture
def net():
    """The library network of the class and dashboard tests (see `network`)."""
    return network()
