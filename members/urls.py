from django.urls import path

from members import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
]
