from django.urls import path

from libraries.circulation.views import desk as views_desk
from libraries.circulation.views import ill as views_ill
from libraries.circulation.views import reader as views_reader
from libraries.stocktake import views as views_inventory

urlpatterns = [
    # Circulation desk (staff)
    path("desk/", views_desk.desk, name="desk"),
    path("desk/scan/", views_desk.desk_scan, name="desk_scan"),
    path("desk/overdue/", views_desk.overdue_list, name="overdue_list"),
    path("desk/cards/", views_desk.card_list, name="card_list"),
    path("desk/cards/new/", views_desk.card_new, name="card_new"),
    path("desk/cards/<int:pk>/renew/", views_desk.card_renew, name="card_renew"),
    path("desk/cards/<int:pk>/update/", views_desk.card_update, name="card_update"),
    path("desk/cards/<int:pk>/card.pdf", views_desk.card_pdf, name="card_pdf"),
    path("desk/ill/", views_ill.ill_list, name="ill_list"),
    path("desk/ill/<int:pk>/decide/", views_ill.ill_decide, name="ill_decide"),
    # Stocktaking (staff)
    path("stocktake/", views_inventory.stocktake_list, name="stocktake_list"),
    path("stocktake/<int:pk>/", views_inventory.stocktake_detail, name="stocktake_detail"),
    path("stocktake/<int:pk>/scan/", views_inventory.stocktake_scan, name="stocktake_scan"),
    path("stocktake/<int:pk>/upload/", views_inventory.stocktake_upload, name="stocktake_upload"),
    path("stocktake/<int:pk>/report/", views_inventory.stocktake_report, name="stocktake_report"),
    path(
        "stocktake/<int:pk>/export.<str:fmt>",
        views_inventory.stocktake_export,
        name="stocktake_export",
    ),
    path("stocktake/<int:pk>/close/", views_inventory.stocktake_close, name="stocktake_close"),
    # Readers and the public
    path("register-card/", views_reader.register_card, name="register_card"),
    path("register-card/sent/", views_reader.register_card_done, name="register_card_done"),
    path("my/loans/", views_reader.my_loans, name="my_loans"),
    path("my/loans/<int:loan_id>/renew/", views_reader.my_renew, name="my_renew"),
    path("my/holds/<int:hold_id>/cancel/", views_reader.my_cancel_hold, name="my_cancel_hold"),
    path("catalog/record/<int:record_id>/hold/", views_reader.place_hold, name="place_hold"),
]
