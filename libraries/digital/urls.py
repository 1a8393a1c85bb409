from django.urls import path

from libraries.digital import offline, opds, reader, views

urlpatterns = [
    path("digital/<int:pk>/file/", views.digital_file, name="digital_file"),
    path("digital/f/<str:token>/", views.signed_file, name="digital_signed"),
    path("digital/<int:pk>/read/", reader.read, name="digital_read"),
    path("digital/<int:pk>/position/", reader.position, name="digital_position"),
    # Offline reading in the installable app (libraries/digital/offline.py).
    path("digital/<int:pk>/offline/", offline.offline_book, name="digital_offline_book"),
    path("digital/offline/", offline.offline_list, name="digital_offline_list"),
    path("digital/<int:pk>/borrow/", views.digital_borrow, name="digital_borrow"),
    path("digital/<int:pk>/wait/", views.digital_wait, name="digital_wait"),
    path("digital/loans/<int:loan_id>/return/", views.digital_return, name="digital_return"),
    path(
        "digital/holds/<int:hold_id>/cancel/", views.digital_cancel_wait, name="digital_cancel_wait"
    ),
    # Reading apps (OPDS 1.2, libraries/digital/opds.py).
    path("opds/", opds.root, name="opds_root"),
    path("opds/new/", opds.new_titles, name="opds_new"),
    path("opds/subjects/", opds.subjects, name="opds_subjects"),
    path("opds/subject/", opds.subject, name="opds_subject"),
    path("opds/libraries/", opds.libraries, name="opds_libraries"),
    path("opds/libraries/<str:code>/", opds.library, name="opds_library"),
    path("opds/search/", opds.search_feed, name="opds_search"),
    path("opds/opensearch.xml", opds.opensearch, name="opds_opensearch"),
    path("opds/auth/", opds.authentication, name="opds_authentication"),
    path("opds/files/<int:pk>/download/", opds.download, name="opds_download"),
    path("opds/files/<int:pk>/borrow/", opds.borrow, name="opds_borrow"),
    path("opds/files/<int:pk>/cover/", opds.cover, name="opds_cover"),
]
