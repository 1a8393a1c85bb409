# Stocktakes run in the circulation test network, in English.
from tests.libraries.circulation.conftest import _english, network  # noqa: F401
