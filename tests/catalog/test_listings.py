"""The listing state machine: every move, allowed, already made, and refused."""

from __future__ import annotations

import pytest

from artisan_market.catalog import listings
from artisan_market.catalog.listings import ListingError
from artisan_market.catalog.models import ListingStatus as S
from artisan_market.catalog.models import RejectionReason
from artisan_market.extensions import db

DONE = "already made: nothing changes"
NO = "refused"
GONE = "deleted"

# What each move does from each status, written out here (never read from the code's own
# table): the new status, DONE, NO or GONE. Columns: draft, pending, live, rejected, paused,
# sold out, archived.
COLUMNS = (S.DRAFT, S.PENDING, S.LIVE, S.REJECTED, S.PAUSED, S.SOLD_OUT, S.ARCHIVED)
EXPECTED = {
    "submit": (S.PENDING, DONE, NO, S.PENDING, NO, NO, NO),
    "approve": (NO, S.LIVE, DONE, NO, NO, DONE, NO),
    "reject": (NO, S.REJECTED, NO, DONE, NO, NO, NO),
    "pause": (NO, NO, S.PAUSED, NO, DONE, S.PAUSED, NO),
    "resume": (NO, NO, DONE, NO, S.LIVE, DONE, NO),
    "archive": (S.ARCHIVED, NO, S.ARCHIVED, S.ARCHIVED, S.ARCHIVED, S.ARCHIVED, DONE),
    "restore": (NO, NO, NO, NO, NO, NO, S.DRAFT),
    "delete": (GONE, NO, NO, NO, NO, NO, NO),
}


def _attempt(product, move, artisan, coordinator):
    if move == "submit":
        return listings.submit(product, editor=artisan)
    if move == "approve":
        return listings.approve(product, coordinator=coordinator)
    if move == "reject":
        return listings.reject(
            product, coordinator=coordinator, reason=RejectionReason.PRICE, note=""
        )
    if move == "delete":
        return listings.delete_draft(product, editor=artisan)
    return listings.change_status(product, move, editor=artisan)


@pytest.mark.parametrize("move", list(EXPECTED))
@pytest.mark.parametrize("column", range(len(COLUMNS)), ids=[s.value for s in COLUMNS])
def test_every_move_from_every_status(make_product, make_user, move, column):
    """Does each move take each status where the table says, do nothing where it was made
    already, and refuse (changing nothing) everywhere else?"""
    status, expected = COLUMNS[column], EXPECTED[move][column]
    coordinator = make_user("coordinator")
    product = make_product(status=status, coordinator=coordinator)
    artisan = product.artisan.user
    if expected is NO:
        with pytest.raises(ListingError):
            _attempt(product, move, artisan, coordinator)
        db.session.rollback()
        assert db.session.get(type(product), product.id).status is status
        return
    changed = _attempt(product, move, artisan, coordinator)
    db.session.commit()
    if expected is GONE:
        assert db.session.get(type(product), product.id) is None
    elif expected is DONE:
        assert changed is False
        assert product.status is status
    else:
        assert changed is True
        assert product.status is expected


@pytest.mark.parametrize(
    ("move", "role"),
    [("approve", "artisan"), ("reject", "artisan"), ("approve", "buyer"), ("submit", "buyer")],
)
def test_a_move_is_refused_to_whom_the_table_does_not_name(make_product, make_user, move, role):
    """Can someone make a move the table gives to others (an artisan approving her own)?"""
    product = make_product(status=S.PENDING if move != "submit" else S.DRAFT)
    person = product.artisan.user if role == "artisan" else make_user(role)
    with pytest.raises(ListingError):
        _attempt(product, move, person, person)


def test_a_repeated_approval_changes_nothing_and_tells_nobody_twice(make_product, make_user):
    """Does a second tap on "approve" leave one audit entry and one notification?"""
    import sqlalchemy as sa

    from artisan_market.audit.models import AuditEvent
    from artisan_market.notifications.models import Notification

    coordinator = make_user("coordinator")
    product = make_product(status=S.PENDING, coordinator=coordinator)
    assert listings.approve(product, coordinator=coordinator) is True
    db.session.commit()
    assert listings.approve(product, coordinator=coordinator) is False
    db.session.commit()
    approvals = db.session.scalar(
        sa.select(sa.func.count()).where(
            AuditEvent.action == "listing.approved", AuditEvent.subject_id == product.id
        )
    )
    notes = db.session.scalar(
        sa.select(sa.func.count()).where(Notification.kind == "listing_approved")
    )
    assert (approvals, notes) == (1, 1)


def test_an_incomplete_draft_cannot_be_sent(make_product):
    product = make_product(photos=0)
    with pytest.raises(ListingError) as refused:
        listings.submit(product, editor=product.artisan.user)
    assert "photo" in str(refused.value.message)


def test_only_a_verified_artisans_listing_goes_live(make_product, make_artisan, make_user):
    product = make_product(artisan=make_artisan(verified=False), status=S.PENDING)
    with pytest.raises(ListingError):
        listings.approve(product, coordinator=make_user("coordinator"))


def test_rejecting_for_other_needs_a_note(make_product, make_user):
    product = make_product(status=S.PENDING)
    with pytest.raises(ListingError):
        listings.reject(
            product, coordinator=make_user("coordinator"), reason=RejectionReason.OTHER, note=" "
        )


def _words(product, **changes):
    base = {f: getattr(product, f) for f in listings.ListingWords.__dataclass_fields__}
    return listings.ListingWords(**{**base, **changes})


def _terms(product, **changes):
    base = {f: getattr(product, f) for f in listings.ListingTerms.__dataclass_fields__}
    return listings.ListingTerms(**{**base, **changes})


@pytest.mark.parametrize("status", [S.LIVE, S.PAUSED, S.SOLD_OUT])
def test_editing_words_of_a_reviewed_listing_sends_it_back(make_product, status):
    product = make_product(status=status)
    artisan = product.artisan.user
    assert listings.update(
        product, _words(product, title="سلة جديدة"), _terms(product), editor=artisan
    )
    assert product.status is S.PENDING


def test_price_and_stock_changes_stay_live(make_product):
    product = make_product(status=S.LIVE)
    artisan = product.artisan.user
    sent_back = listings.update(
        product, _words(product), _terms(product, price=30_000, stock=7), editor=artisan
    )
    assert not sent_back and product.status is S.LIVE
    listings.update(product, _words(product), _terms(product, stock=0), editor=artisan)
    assert product.status is S.SOLD_OUT
    listings.update(product, _words(product), _terms(product, stock=2), editor=artisan)
    assert product.status is S.LIVE


def test_photo_changes_of_a_live_listing_send_it_back(make_product):
    product = make_product(status=S.LIVE, photos=2)
    artisan = product.artisan.user
    second = product.photos[1].id
    assert listings.make_cover(product, second, editor=artisan)
    assert product.status is S.PENDING
    assert product.photos[0].id == second


def test_at_most_eight_photos(make_product):
    import io

    from artisan_market.media.services import prepare_photo
    from tests.conftest import small_jpeg

    product = make_product(photos=8)
    with pytest.raises(ListingError):
        listings.add_photos(
            product, [prepare_photo(io.BytesIO(small_jpeg()))], editor=product.artisan.user
        )


def test_the_database_refuses_negative_stock_and_incomplete_live_listings(make_product):
    """The CHECK constraints hold even if a rule were bypassed."""
    import sqlalchemy as sa

    product = make_product(status=S.LIVE)
    for values in ({"stock": -1}, {"price": None}, {"title": ""}):
        with pytest.raises(sa.exc.IntegrityError):
            db.session.execute(
                sa.update(type(product)).where(type(product).id == product.id).values(**values)
            )
            db.session.flush()
        db.session.rollback()
