"""The bank's URLs: customer pages, login, admin, OAuth endpoints and the API."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.decorators.cache import never_cache
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from bank.forms import BankPasswordChangeForm
from connections.urls import OAUTH_NAMESPACE, oauth_urlpatterns, page_urlpatterns
from connections.views.oauth import BankServerMetadataView

urlpatterns = [
    path("", include("bank.urls")),
    path("", include(page_urlpatterns)),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        never_cache(
            auth_views.PasswordChangeView.as_view(
                form_class=BankPasswordChangeForm, success_url="/profile/settings/security/"
            )
        ),
        name="password_change",
    ),
    path("admin/", admin.site.urls),
    path("o/", include((oauth_urlpatterns, OAUTH_NAMESPACE))),
    path(".well-known/oauth-authorization-server", BankServerMetadataView.as_view(), name="oauth-metadata"),
    path("api/v1/", include("bank.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
]

handler400 = "bank.core.http.bad_request"
handler404 = "bank.core.http.not_found"
handler500 = "bank.core.http.server_error"
