from django.urls import path

from libraries.circulation.views import desk, ill, reader

urlpatterns = [
    # Circulation desk (staff)
    path("desk/", desk.desk, name="desk"),
    path("desk/scan/", desk.desk_scan, name="desk_scan"),
    path("desk/overdue/", desk.overdue_list, name="overdue_list"),
    path("desk/cards/", desk.card_list, name="card_list"),
    path("desk/cards/new/", desk.card_new, name="card_new"),
    path("desk/cards/<int:pk>/renew/", desk.card_renew, name="card_renew"),
    path("desk/cards/<int:pk>/update/", desk.card_update, name="card_update"),
    path("desk/cards/<int:pk>/card.pdf", desk.card_pdf, name="card_pdf"),
    path("desk/ill/", ill.ill_list, name="ill_list"),
    path("desk/ill/<int:pk>/decide/", ill.ill_decide, name="ill_decide"),
    # Readers and the public
    path("register-card/", reader.register_card, name="register_card"),
    path("register-card/sent/", reader.register_card_done, name="register_card_done"),
    path("my/loans/", reader.my_loans, name="my_loans"),
    path("my/loans/<int:loan_id>/renew/", reader.my_renew, name="my_renew"),
    path("my/holds/<int:hold_id>/cancel/", reader.my_cancel_hold, name="my_cancel_hold"),
    path("catalog/record/<int:record_id>/hold/", reader.place_hold, name="place_hold"),
]
