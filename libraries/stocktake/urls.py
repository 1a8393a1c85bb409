from django.urls import path

from libraries.stocktake import views

urlpatterns = [
    path("stocktake/", views.stocktake_list, name="stocktake_list"),
    path("stocktake/<int:pk>/", views.stocktake_detail, name="stocktake_detail"),
    path("stocktake/<int:pk>/scan/", views.stocktake_scan, name="stocktake_scan"),
    path("stocktake/<int:pk>/upload/", views.stocktake_upload, name="stocktake_upload"),
    path("stocktake/<int:pk>/report/", views.stocktake_report, name="stocktake_report"),
    path(
        "stocktake/<int:pk>/export.<str:fmt>",
        views.stocktake_export,
        name="stocktake_export",
    ),
    path("stocktake/<int:pk>/close/", views.stocktake_close, name="stocktake_close"),
]
