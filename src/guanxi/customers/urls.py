from django.urls import path

from guanxi.customers import views

urlpatterns = [
    path("", views.customer_list, name="customer_list"),
    path("new/", views.customer_create, name="customer_create"),
    path("search/", views.search, name="customer_search"),
    path("export.csv", views.export_csv, name="customer_export"),
    path("views/save/", views.save_view, name="customer_save_view"),
    path("reassign/", views.reassign, name="customer_reassign"),
    path("views/<int:view_id>/delete/", views.delete_view, name="customer_delete_view"),
    path("<int:customer_id>/", views.customer_detail, name="customer_detail"),
    path("<int:customer_id>/timeline/", views.customer_timeline, name="customer_timeline"),
    path("<int:customer_id>/edit/", views.customer_edit, name="customer_edit"),
    path("<int:customer_id>/delete/", views.customer_delete, name="customer_delete"),
    path("<int:customer_id>/tags/", views.set_tags, name="customer_tags"),
    path("<int:customer_id>/points/", views.add_contact_point, name="customer_add_point"),
    path("<int:customer_id>/points/<int:point_id>/delete/", views.remove_contact_point,
         name="customer_remove_point"),
    path("<int:customer_id>/addresses/", views.add_address, name="customer_add_address"),
    path("<int:customer_id>/contacts/", views.add_contact, name="customer_add_contact"),
    path("<int:customer_id>/consents/", views.record_consent, name="customer_add_consent"),
]
