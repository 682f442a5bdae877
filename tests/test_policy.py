"""Who may do what to which thing (policy.py), written out as a table for every person."""

from __future__ import annotations

import pytest

from artisan_market.accounts import services
from artisan_market.extensions import db
from artisan_market.policy import can

PERSONS = (
    "anonymous",
    "buyer",
    "her",
    "other_artisan",
    "her_coordinator",
    "other_coordinator",
    "admin",
)
# (action, thing): what each person in PERSONS may do, in that order.
T, F = True, False
EXPECTED = {
    ("manage_listing", "sent"): (F, F, T, F, T, F, T),
    ("manage_listing", "draft"): (F, F, T, F, T, F, T),
    ("review_listing", "sent"): (F, F, F, F, T, T, T),
    ("review_listing", "draft"): (F, F, F, F, F, F, F),  # never sent: hers alone
    ("preview_listing", "sent"): (F, F, T, F, T, T, T),
    ("preview_listing", "draft"): (F, F, T, F, T, F, T),
    ("act_for_artisan", "profile"): (F, F, F, F, T, F, T),
    ("verify_artisan", "profile"): (F, F, F, F, T, T, T),
    ("read_audit", None): (F, F, F, F, T, T, T),
}


@pytest.fixture
def world(make_user, make_artisan, make_product):
    coordinator = make_user("coordinator")
    artisan = make_artisan(verified=True, verified_by=coordinator)
    persons = {
        "anonymous": None,
        "buyer": make_user("buyer"),
        "her": artisan,
        "other_artisan": make_artisan(verified=True),
        "her_coordinator": coordinator,
        "other_coordinator": make_user("coordinator"),
        "admin": make_user("admin"),
    }
    things = {
        "sent": make_product(artisan=artisan, status="pending"),
        "draft": make_product(artisan=artisan, status="draft"),
        "profile": artisan.artisan_profile,
        None: None,
    }
    return persons, things


@pytest.mark.parametrize(("action", "thing"), list(EXPECTED))
def test_who_may(world, action, thing):
    persons, things = world
    answers = tuple(can(persons[p], action, things[thing]) for p in PERSONS)
    assert answers == EXPECTED[action, thing]


def test_before_anyone_verifies_her_the_coordinator_who_made_her_account_stands_for_her(
    make_user,
):
    """Until she is verified, the coordinator who created her account acts for her (she may
    need a new set-password link); once another coordinator verifies her, only that one."""
    creator, verifier = make_user("coordinator"), make_user("coordinator")
    user = services.register_artisan(
        name="زينب",
        phone="+201122334455",
        email=None,
        password=None,
        details=services.ArtisanDetails("زينب", "MT", "سيوة", "embroidery"),
        created_by=creator,
    )
    db.session.commit()
    profile = user.artisan_profile
    assert (
        can(creator, "act_for_artisan", profile),
        can(verifier, "act_for_artisan", profile),
    ) == (
        True,
        False,
    )
    from artisan_market.accounts.models import Organisation

    services.verify_artisan(
        profile, coordinator=verifier, organisation=Organisation(name_ar="ج", name_en="A")
    )
    db.session.commit()
    assert (
        can(creator, "act_for_artisan", profile),
        can(verifier, "act_for_artisan", profile),
    ) == (
        False,
        True,
    )


def test_an_action_without_a_rule_is_a_bug_not_a_no(make_user):
    with pytest.raises(KeyError):
        can(make_user("admin"), "manage_lisitng", None)
