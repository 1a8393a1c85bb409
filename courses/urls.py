"""The training app's pages, one list per capability, under the `courses` namespace."""

from courses.classes.urls import urlpatterns as classes
from courses.dashboards.urls import urlpatterns as dashboards
from courses.training.urls import urlpatterns as training
from courses.xapi.urls import urlpatterns as xapi

app_name = "courses"
urlpatterns = [*xapi, *training, *classes, *dashboards]
