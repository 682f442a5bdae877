"""Coordinators create artisans' accounts for them and hand them one-time password links."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from artisan_market.accounts.models import ArtisanProfile, Role, SetPasswordLink, User
from artisan_market.extensions import db
from artisan_market.timeutil import utcnow
from tests.conftest import Client

HER = {
    "name": "زينب علي",
    "phone": "٠١١ ٢٢٣٣ ٤٤٥٥",
    "governorate": "MT",
    "village": "سيوة",
    "craft": "embroidery",
    "story": "",
}
NEW_PASSWORD = "تطريز سيوة الأخضر"


def _link(response) -> str:
    match = re.search(r'<code dir="ltr">(http[^<]+)</code>', response.get_data(as_text=True))
    assert match, "no link on the page"
    return match.group(1).replace("http://localhost", "")


def test_coordinator_creates_an_account_and_she_sets_her_password(client, app, login_as):
    """The whole on-behalf journey: account made, link shown once, she sets a password."""
    coordinator = login_as("coordinator")
    response = client.submit("/coordinator/artisans/new", HER)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert "https://wa.me/201122334455?text=" in page
    link = _link(response)

    user = db.session.scalar(sa.select(User).where(User.phone == "+201122334455"))
    assert user.password_hash is None
    assert user.artisan_profile.created_by_id == coordinator.id
    stored = db.session.scalar(sa.select(SetPasswordLink).where(SetPasswordLink.user_id == user.id))
    assert link.rsplit("/", 1)[1] not in stored.token_hash  # only a hash is kept

    app.test_client_class = Client
    phone = app.test_client()  # her phone
    assert phone.get(link).status_code == 200
    done = phone.submit(link, {"password": NEW_PASSWORD}, page=link)
    assert done.status_code == 303
    assert "زينب" in phone.get("/account").get_data(as_text=True)
    # the link works once
    assert phone.get(link).status_code == 404
    # and she can log in with her phone number from now on
    again = app.test_client()
    ok = again.submit("/login", {"login": "01122334455", "password": NEW_PASSWORD})
    assert ok.status_code == 303


def test_a_new_link_replaces_the_old_one(client, app, login_as, make_artisan):
    """A reset link for a forgotten password: the older link stops working."""
    artisan = make_artisan(verified=True, verified_by=login_as("coordinator"))
    first = _link(client.submit(f"/coordinator/artisans/{artisan.id}/password-link"))
    second = _link(client.submit(f"/coordinator/artisans/{artisan.id}/password-link"))
    assert first != second
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200


def test_setting_a_password_ends_her_old_sessions(client, app, login_as, make_artisan):
    from tests.conftest import log_in

    artisan = make_artisan(verified=True, verified_by=login_as("coordinator"))
    thief = app.test_client()
    log_in(thief, artisan)
    assert thief.get("/account").status_code == 200
    link = _link(client.submit(f"/coordinator/artisans/{artisan.id}/password-link"))
    app.test_client_class = Client
    app.test_client().submit(link, {"password": NEW_PASSWORD}, page=link)
    assert thief.get("/account").status_code == 303


def test_expired_links_are_404(client, login_as, make_artisan):
    artisan = make_artisan(verified=True, verified_by=login_as("coordinator"))
    link = _link(client.submit(f"/coordinator/artisans/{artisan.id}/password-link"))
    db.session.execute(sa.update(SetPasswordLink).values(expires_at=utcnow() - timedelta(1)))
    db.session.commit()
    assert client.get(link).status_code == 404


def test_a_weak_password_on_the_link_keeps_the_link(client, login_as, make_artisan):
    artisan = make_artisan(verified=True, verified_by=login_as("coordinator"))
    link = _link(client.submit(f"/coordinator/artisans/{artisan.id}/password-link"))
    response = client.submit(link, {"password": "12345678"}, page=link)
    assert response.status_code == 422
    assert client.get(link).status_code == 200  # not spent


def test_a_link_only_from_her_coordinator_or_an_admin(app, client, login_as, make_artisan):
    """Can a coordinator who did not verify her make a way into her account? (No: 404.) The
    one who created her account may, until someone verifies her; then only the verifier."""
    from tests.conftest import log_in

    login_as("coordinator")
    other = make_artisan(verified=True)
    assert client.submit(f"/coordinator/artisans/{other.id}/password-link").status_code == 404
    created = client.submit("/coordinator/artisans/new", HER)
    assert created.status_code == 200
    new = db.session.scalar(sa.select(User).where(User.phone == "+201122334455"))
    assert client.submit(f"/coordinator/artisans/{new.id}/password-link").status_code == 200
    from artisan_market.accounts import services

    stranger = services.register(
        name="x", phone="+201000000099", email=None, password=None, role=Role.COORDINATOR
    )
    services.verify_artisan(
        new.artisan_profile, coordinator=stranger, organisation=_any_organisation()
    )
    db.session.commit()
    assert client.submit(f"/coordinator/artisans/{new.id}/password-link").status_code == 404
    log_in(client, stranger)
    assert client.submit(f"/coordinator/artisans/{new.id}/password-link").status_code == 200
    log_in(client, login_as("admin"))
    assert client.submit(f"/coordinator/artisans/{other.id}/password-link").status_code == 200


def _any_organisation():
    from artisan_market.accounts.models import Organisation

    organisation = Organisation(name_ar="جمعية سيوة", name_en="Siwa association")
    db.session.add(organisation)
    db.session.flush()
    return organisation


def test_links_only_for_artisans(client, login_as, make_user):
    """Asking for a link for a buyer, a coordinator or nobody is a 404 (no hint it exists)."""
    login_as("coordinator")
    for user in (make_user("buyer"), make_user("coordinator"), make_user("admin")):
        response = client.submit(f"/coordinator/artisans/{user.id}/password-link")
        assert response.status_code == 404
    assert client.submit("/coordinator/artisans/999999/password-link").status_code == 404


def test_coordinators_see_phones_and_the_list(client, login_as, make_artisan):
    login_as("coordinator")
    make_artisan(phone="+201012345678", village="قرية النزلة")
    page = client.get("/coordinator/artisans").get_data(as_text=True)
    assert "٠١٠ ١٢٣٤ ٥٦٧٨" in page and "https://wa.me/201012345678" in page
    assert "قرية النزلة" in page


def test_same_phone_is_refused_with_her_details_kept(client, login_as, make_artisan):
    login_as("coordinator")
    make_artisan(phone="+201122334455")
    response = client.submit("/coordinator/artisans/new", HER)
    assert response.status_code == 422
    assert "سيوة" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ArtisanProfile)) == 1
