"""App logos are images the bank checks, re-encodes, stores and serves itself: no hot-linked URL tells
a third party when a customer opens their connections page, and no uploaded file reaches a browser
as it was uploaded."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from connections.models import Application, Logo
from connections.services.connections import connection_grant
from tests.factories import make_account

pytestmark = pytest.mark.django_db


def image_bytes(format: str = "PNG", size: tuple[int, int] = (600, 300), **save: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=format, **save)
    return buffer.getvalue()


def register_with_logo(client, upload: SimpleUploadedFile):
    return client.post(
        "/developers/new/",
        {
            "name": "Piggy Bank",
            "website": "https://piggy.example",
            "redirect_uris": "https://piggy.example/callback",
            "client_type": "confidential",
            "logo": upload,
        },
    )


def test_an_uploaded_logo_is_re_encoded_stored_and_served_by_the_bank(client, alice):
    client.force_login(alice)
    exif = Image.Exif()
    exif[0x010E] = "secret camera notes"  # ImageDescription
    assert register_with_logo(client, SimpleUploadedFile("me.jpg", image_bytes("JPEG", exif=exif))).status_code == 200

    application = Application.objects.get()
    logo = Logo.objects.get()
    assert application.logo == logo
    stored = Image.open(io.BytesIO(bytes(logo.png)))
    assert stored.format == "PNG" and max(stored.size) == 256
    assert b"secret camera notes" not in bytes(logo.png)

    served = client.get(f"/apps/logos/{logo.sha256}.png")
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert "immutable" in served["Cache-Control"]
    assert served.content == bytes(logo.png)


def test_the_connections_page_shows_the_banks_copy(client, alice):
    client.force_login(alice)
    register_with_logo(client, SimpleUploadedFile("logo.png", image_bytes(size=(64, 64))))
    application = Application.objects.get()
    connection_grant(user=alice, application=application, scopes=["accounts:read"], accounts=[make_account(alice)])

    page = client.get("/profile/settings/security/app-connections/")

    assert f'src="/apps/logos/{application.logo_id}.png"' in page.content.decode()
    assert "https:" not in page["Content-Security-Policy"].split("img-src")[1].split(";")[0]


@pytest.mark.parametrize(
    "upload",
    [
        b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
        b"<html><script>alert(1)</script></html>",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,  # a PNG signature and nothing behind it
        image_bytes("GIF", size=(32, 32)),
        image_bytes(size=(5000, 10)),
        b"x" * (600 * 1024),
    ],
    ids=["svg", "html", "truncated-png", "gif", "too-wide", "too-large"],
)
def test_anything_but_a_sane_image_is_refused_and_nothing_is_saved(client, alice, upload):
    client.force_login(alice)

    response = register_with_logo(client, SimpleUploadedFile("logo.png", upload))

    assert response.status_code == 200
    assert "must be a PNG, JPEG or WebP image" in response.content.decode()
    assert not Application.objects.exists() and not Logo.objects.exists()


def test_an_unknown_logo_is_404(client):
    assert client.get(f"/apps/logos/{'0' * 64}.png").status_code == 404
