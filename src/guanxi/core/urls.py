from django.contrib.auth import views as auth_views
from django.urls import path

from guanxi.core import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", views.set_language, name="set_language"),
    path("profile/", views.profile, name="profile"),
    path("audit/", views.audit_log, name="audit"),
    path("settings/custom-fields/", views.custom_fields, name="custom_fields"),
    path("settings/users/", views.users, name="users"),
    path("settings/users/new/", views.user_edit, name="user_create"),
    path("settings/users/<int:user_id>/", views.user_edit, name="user_edit"),
]
