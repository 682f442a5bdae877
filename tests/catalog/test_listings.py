"""The listing state machine: every move, allowed and refused."""

from __future__ import annotations

import pytest

from artisan_market.catalog import listings
from artisan_market.catalog.listings import MOVES, ListingError
from artisan_market.catalog.models import ListingStatus as S
from artisan_market.catalog.models import RejectionReason
from artisan_market.extensions import db

EVERY_STATUS = list(S)


def _attempt(product, move, artisan, coordinator):
    if move == "submit":
        listings.submit(product, editor=artisan)
    elif move == "approve":
        listings.approve(product, coordinator=coordinator)
    elif move == "reject":
        listings.reject(product, coordinator=coordinator, reason=RejectionReason.PRICE, note="")
    elif move == "delete":
        listings.delete_draft(product, editor=artisan)
    else:
        listings.change_status(product, move, editor=artisan)


@pytest.mark.parametrize("move", list(MOVES))
@pytest.mark.parametrize("status", EVERY_STATUS)
def test_every_move_from_every_status(make_product, make_user, status, move):
    """Is each move allowed exactly from the statuses the table says, and refused elsewhere?"""
    coordinator = make_user("coordinator")
    product = make_product(status=status, coordinator=coordinator)
    artisan = product.artisan.user
    sources, target = MOVES[move]
    if status in sources:
        _attempt(product, move, artisan, coordinator)
        db.session.commit()
        if target is None:
            assert db.session.get(type(product), product.id) is None
        elif move == "resume" and product.stock == 0:
            assert product.status is S.SOLD_OUT
        else:
            assert product.status is target
    else:
        with pytest.raises(ListingError):
            _attempt(product, move, artisan, coordinator)
        db.session.rollback()
        assert db.session.get(type(product), product.id).status is status


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
