"""The library app's pages, one list per capability, under the `libraries` namespace."""

from libraries.catalog.urls import urlpatterns as catalog
from libraries.circulation.urls import urlpatterns as circulation
from libraries.digital.urls import urlpatterns as digital
from libraries.network.urls import urlpatterns as network
from libraries.stocktake.urls import urlpatterns as stocktake

app_name = "libraries"
urlpatterns = [*network, *catalog, *circulation, *stocktake, *digital]
