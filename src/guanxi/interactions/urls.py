from django.urls import path

from guanxi.interactions import views

urlpatterns = [
    path("", views.interaction_list, name="interaction_list"),
    path("new/", views.interaction_create, name="interaction_create"),
    path("<int:interaction_id>/", views.interaction_detail, name="interaction_detail"),
    path("customer/<int:customer_id>/", views.customer_interactions,
         name="customer_interactions"),
    path("email/new/", views.email_compose, name="email_compose"),
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/new/", views.task_create, name="task_create"),
    path("tasks/<int:task_id>/", views.task_edit, name="task_edit"),
    path("tasks/<int:task_id>/complete/", views.task_complete, name="task_complete"),
    path("tasks/<int:task_id>/reopen/", views.task_reopen, name="task_reopen"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/feed/", views.calendar_feed, name="calendar_feed"),
    path("calendar/feed/<str:key>.ics", views.ical_feed, name="ical_feed"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:notification_id>/open/", views.notification_open,
         name="notification_open"),
    path("notifications/read-all/", views.notifications_read_all,
         name="notifications_read_all"),
    path("mail/unfiled/", views.unfiled_list, name="unfiled_mail"),
    path("mail/unfiled/<int:unfiled_id>/file/", views.unfiled_file, name="unfiled_file"),
    path("mail/unfiled/<int:unfiled_id>/discard/", views.unfiled_discard,
         name="unfiled_discard"),
    path("mail/fetch/", views.mail_fetch, name="mail_fetch"),
]
