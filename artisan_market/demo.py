"""Demo data for `flask demo`: people in every role, listings in every status, orders in
every state, paid in cash on delivery and by card, and microgrants (`demo_grants`).

Every demo photo is drawn here and then goes through the same pipeline as an upload. Every
order is placed, paid and fulfilled through the order rules (stock, parts, payments,
notifications and audit entries are real); only its times are then moved back into the last
weeks. A card order is paid without Stripe: the demo says what its webhook would have said.
Carts live in each browser's session cookie, so there is no cart to load.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from PIL import Image, ImageDraw

from artisan_market import demo_grants
from artisan_market.accounts import services as accounts
from artisan_market.accounts.models import Organisation, Role, User, VerificationStatus
from artisan_market.accounts.phones import normalise_phone
from artisan_market.catalog import listings
from artisan_market.catalog.models import Category, ListingStatus, Product, RejectionReason
from artisan_market.database import dialect_name
from artisan_market.extensions import db
from artisan_market.media.services import prepare_photo
from artisan_market.notifications.models import Notification
from artisan_market.orders import rules
from artisan_market.orders.models import CancelReason, Order, OrderPart, OrderStatus
from artisan_market.payments.models import Payment
from artisan_market.timeutil import EGYPT, today_in_egypt, utcnow

PASSWORD = "souq-demo-2026"  # noqa: S105 (printed on purpose; never in production)

ORGANISATIONS = [
    ("جمعية تنمية المجتمع بغرب سهيل", "West Soheil Community Development Association", "ASN"),
    ("جمعية سيوة للحرف التراثية", "Siwa Heritage Crafts Association", "MT"),
    ("مؤسسة الفيوم للتنمية", "Faiyum Development Foundation", "FYM"),
]

PEOPLE = [
    # role, name, phone, email, artisan details, verified
    (Role.ADMIN, "Admin Demo", None, "admin@demo.souq", None, False),
    (Role.COORDINATOR, "منى عبد الرحمن", "01000000001", "coordinator@demo.souq", None, False),
    (Role.BUYER, "Sara Buyer", "01000000002", "buyer@demo.souq", None, False),
    (
        Role.ARTISAN,
        "فاطمة حسن",
        "01000000003",
        None,
        accounts.ArtisanDetails(
            display_name="فاطمة من أسوان",
            governorate="ASN",
            village="غرب سهيل",
            craft="basketry",
            story="أصنع سلال الخوص منذ أن علمتني أمي، وأبيع لأعلّم بناتي.",
        ),
        True,
    ),
    (
        Role.ARTISAN,
        "أمينة عبد الله",
        "01000000004",
        None,
        accounts.ArtisanDetails(
            display_name="أمينة",
            governorate="MT",
            village="سيوة",
            craft="embroidery",
            story="تطريز سيوة بالألوان كما كانت جدتي تطرز فساتين العرس.",
        ),
        True,
    ),
    (
        Role.ARTISAN,
        "هدى محمود",
        "01000000005",
        None,
        accounts.ArtisanDetails(
            display_name="هدى",
            governorate="FYM",
            village="تونس",
            craft="pottery",
            story="فخار قرية تونس في الفيوم.",
        ),
        False,
    ),
    (
        Role.ARTISAN,
        "سعاد إبراهيم",
        "01000000006",
        None,
        accounts.ArtisanDetails(
            display_name="سعاد",
            governorate="SHG",
            village="أخميم",
            craft="textiles",
            story="أنسج الكليم على النول في أخميم.",
        ),
        False,
    ),
]

# (artisan phone, category slug, title, price in pounds, status)
LISTINGS = [
    ("01000000003", "basketry", "سلة خوص ملونة كبيرة", 350, ListingStatus.LIVE),
    ("01000000003", "basketry", "طبق خوص للخبز", 180, ListingStatus.LIVE),
    ("01000000003", "basketry", "شنطة خوص يد", 420, ListingStatus.PENDING),
    ("01000000003", "basketry", "سلة صغيرة للمفاتيح", 90, ListingStatus.REJECTED),
    ("01000000003", "basketry", "حصيرة خوص", 600, ListingStatus.DRAFT),
    ("01000000003", "basketry", "غطاء طبق مزخرف", 150, ListingStatus.PAUSED),
    ("01000000004", "embroidery", "شال مطرز بألوان سيوة", 750, ListingStatus.LIVE),
    ("01000000004", "embroidery", "مفرش طاولة مطرز", 520, ListingStatus.SOLD_OUT),
    ("01000000004", "embroidery", "وسادة مطرزة", 280, ListingStatus.PENDING),
    ("01000000004", "embroidery", "حقيبة مطرزة قديمة", 300, ListingStatus.ARCHIVED),
    ("01000000005", "pottery", "زير فخار صغير", 200, ListingStatus.PENDING),
    ("01000000005", "pottery", "طبق فخار ملون", 160, ListingStatus.DRAFT),
    ("01000000004", "embroidery", "فستان سيوي مطرز على المقاس", 1400, ListingStatus.LIVE),
]
# Pieces in stock (3 unless said here): enough for the demo orders, with some left to buy.
STOCK = {"سلة خوص ملونة كبيرة": 8, "طبق خوص للخبز": 10, "شال مطرز بألوان سيوة": 6}
# Made to order: days to make it (its stock is not counted).
MADE_TO_ORDER = {"فستان سيوي مطرز على المقاس": 14}

COLOURS = [(170, 110, 60), (196, 74, 52), (45, 110, 96), (214, 168, 72), (122, 59, 29)]


def demo_photo(seed: int) -> bytes:
    """A woven-looking pattern, 1600×1200, as a phone JPEG: something to look at."""
    rng = random.Random(seed)  # noqa: S311 (pictures, not secrets)
    image = Image.new("RGB", (1600, 1200), (245, 236, 220))
    draw = ImageDraw.Draw(image)
    colours = rng.sample(COLOURS, 3)
    for y in range(0, 1200, 60):
        draw.rectangle([0, y, 1600, y + 28], fill=colours[(y // 60) % 3])
    for x in range(0, 1600, 80):
        draw.rectangle([x, 0, x + 18, 1200], fill=colours[(x // 80 + 1) % 3])
    draw.ellipse([500, 250, 1100, 950], outline=(60, 40, 25), width=24)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    out.seek(0)
    return out.getvalue()


def load() -> bool:
    """Load everything on an empty database; False (and nothing changed) otherwise."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(User)):
        return False
    organisations = {}
    for name_ar, name_en, governorate in ORGANISATIONS:
        organisation = Organisation(name_ar=name_ar, name_en=name_en, governorate=governorate)
        db.session.add(organisation)
        organisations[governorate] = organisation
    users = {}
    for role, name, phone, email, details, _verified in PEOPLE:
        e164 = normalise_phone(phone) if phone else None
        if details is None:
            user = accounts.register(
                name=name, phone=e164, email=email, password=PASSWORD, role=role
            )
        else:
            user = accounts.register_artisan(
                name=name, phone=e164, email=email, password=PASSWORD, details=details
            )
        users[phone or email] = user
    coordinator = users["01000000001"]
    for _role, _name, phone, _email, details, verified in PEOPLE:
        if details is not None and verified:
            profile = users[phone].artisan_profile
            profile.verification = VerificationStatus.VERIFIED
            profile.verified_by = coordinator
            profile.verified_at = utcnow()
            profile.organisation = organisations[details.governorate]
    db.session.flush()
    categories = {c.slug: c for c in db.session.scalars(sa.select(Category))}
    products = {}
    for seed, (phone, slug, title, pounds, status) in enumerate(LISTINGS):
        products[title] = _listing(
            users[phone], categories[slug], title, pounds * 100, status, seed, coordinator
        )
    _orders(users, products)
    demo_grants.load(users, organisations)
    return True


def _listing(user, category, title, price, status, seed, coordinator) -> Product:
    profile = user.artisan_profile
    product = listings.new_draft(profile)
    listings.add_photos(product, [prepare_photo(io.BytesIO(demo_photo(seed)))], editor=user)
    words = listings.ListingWords(
        title=title,
        description="قطعة مصنوعة يدويًا بالكامل.",
        materials="خامات طبيعية من القرية",
        category_id=category.id,
        size="",
        weight_grams=None,
    )
    days_to_make = MADE_TO_ORDER.get(title)
    terms = listings.ListingTerms(
        price=price,
        made_to_order=days_to_make is not None,
        stock=0 if days_to_make else STOCK.get(title, 3),
        days_to_make=days_to_make,
    )
    listings.update(product, words, terms, editor=user)
    if status is ListingStatus.DRAFT:
        return product
    listings.submit(product, editor=user)
    if status is ListingStatus.PENDING:
        return product
    if status is ListingStatus.REJECTED:
        listings.reject(product, coordinator=coordinator, reason=RejectionReason.PHOTO, note="")
        return product
    listings.approve(product, coordinator=coordinator)
    if status is ListingStatus.SOLD_OUT:
        listings.update(
            product,
            words,
            listings.ListingTerms(price=price, made_to_order=False, stock=0, days_to_make=None),
            editor=user,
        )
    elif status is ListingStatus.PAUSED:
        listings.change_status(product, "pause", editor=user)
    elif status is ListingStatus.ARCHIVED:
        listings.change_status(product, "archive", editor=user)
    return product


# --- Orders: every state of an order, its parts and its payment ------------------------------

COD, PAID, EXPIRED, WAITING = "cod", "card paid", "card expired", "card waiting"
FATIMA, AMINA = "01000000003", "01000000004"
BOSTA = "بوسطة"

SARA = rules.Delivery(
    name="Sara Buyer",
    phone="+201000000002",
    email="buyer@demo.souq",
    governorate="ALX",
    city="سموحة",
    address="١٢ شارع النصر، الدور الثالث",
    notes="",
)


def _guest(n: int, name: str, governorate: str, city: str, address: str, notes: str = ""):
    """A buyer without an account: +20100000010n is no one's number."""
    return rules.Delivery(
        name=name,
        phone=f"+2010000001{n:02d}",
        email=None,
        governorate=governorate,
        city=city,
        address=address,
        notes=notes,
    )


@dataclass(frozen=True)
class DemoOrder:
    """An order placed `days_ago`, paid as `pay` says, then the moves on each artisan's part:
    (her phone, move, days ago, details…). She accepts, ships and cancels her part herself;
    the coordinator marks it delivered (the courier tells staff) and records the cash."""

    days_ago: float
    delivery: rules.Delivery
    pay: str  # COD, or a card order PAID, EXPIRED (its time ran out) or WAITING to be paid
    lines: tuple[tuple[str, int], ...]  # (listing title, quantity)
    moves: tuple[tuple, ...] = ()

    @property
    def by_account(self) -> bool:
        return self.delivery is SARA


# Oldest first, so that order numbers in the lists run with their dates.
ORDERS = [
    DemoOrder(
        24,
        _guest(
            1,
            "نادية السيد",
            "C",
            "مدينة نصر",
            "٨ شارع مكرم عبيد، الدور الرابع، شقة ١٢",
            "الاتصال قبل الوصول بنصف ساعة",
        ),
        COD,
        (("سلة خوص ملونة كبيرة", 1),),
        (
            (FATIMA, "accept", 23.5),
            (FATIMA, "ship", 22, BOSTA, "41870263"),
            (FATIMA, "deliver", 19),
            (FATIMA, "cash", 17),
        ),
    ),
    DemoOrder(
        21,
        SARA,
        PAID,
        (("طبق خوص للخبز", 2), ("شال مطرز بألوان سيوة", 1)),
        (
            (FATIMA, "accept", 20.8),
            (AMINA, "accept", 20),
            (FATIMA, "ship", 19.5, BOSTA, "41902518"),
            (AMINA, "ship", 18, "البريد المصري", "EE204418735EG"),
            (FATIMA, "deliver", 16),
            (AMINA, "deliver", 14),
        ),
    ),
    DemoOrder(
        18,
        _guest(2, "ريم عادل", "GZ", "الدقي", "١٥ شارع التحرير، عمارة النور، شقة ٧"),
        EXPIRED,
        (("سلة خوص ملونة كبيرة", 1),),
    ),
    DemoOrder(
        14,
        _guest(3, "هبة مصطفى", "DK", "المنصورة", "شارع الجمهورية، بجوار مسجد النصر، الدور الثاني"),
        COD,
        (("سلة خوص ملونة كبيرة", 1), ("شال مطرز بألوان سيوة", 1)),
        (
            (
                AMINA,
                "cancel",
                13.5,
                CancelReason.BUYER_ASKED,
                "اتصلت المشترية وطلبت إلغاء الشال والإبقاء على السلة.",
            ),
            (FATIMA, "accept", 13),
            (FATIMA, "ship", 12, BOSTA, "42018877"),
            (FATIMA, "deliver", 9),
        ),
    ),
    DemoOrder(
        10,
        _guest(4, "سمر فؤاد", "LX", "الأقصر", "شارع المحطة، منزل رقم ٢٣"),
        COD,
        (("طبق خوص للخبز", 1),),
        ((FATIMA, "cancel", 8, CancelReason.NO_ANSWER, "اتصلت ثلاث مرات ولم يرد أحد."),),
    ),
    DemoOrder(
        8,
        SARA,
        PAID,
        (("شال مطرز بألوان سيوة", 1),),
        (
            (AMINA, "accept", 7),
            (AMINA, "ship", 5, BOSTA, "42177340"),
        ),
    ),
    DemoOrder(
        6,
        _guest(5, "إيمان عبد العزيز", "SHG", "سوهاج", "حي الكوثر، عمارة ٤، شقة ٩"),
        COD,
        (("سلة خوص ملونة كبيرة", 1), ("طبق خوص للخبز", 1)),
        (
            (FATIMA, "accept", 5.5),
            (FATIMA, "ship", 3, BOSTA, "42230915"),
        ),
    ),
    DemoOrder(
        4,
        SARA,
        COD,
        (("فستان سيوي مطرز على المقاس", 1),),
        ((AMINA, "accept", 3),),
    ),
    DemoOrder(
        1,
        _guest(6, "مريم خليل", "GH", "طنطا", "٣ شارع البحر، أمام صيدلية الشفاء"),
        PAID,
        (("شال مطرز بألوان سيوة", 1),),
    ),
    DemoOrder(
        0.25,
        _guest(7, "دعاء حسين", "BNS", "بني سويف", "شارع صلاح سالم، برج الأمل، الدور الخامس"),
        COD,
        (("سلة خوص ملونة كبيرة", 1), ("طبق خوص للخبز", 1), ("شال مطرز بألوان سيوة", 1)),
    ),
    # Placed as the demo loads: its payment page is open for rules.PAY_WINDOW, then the
    # expiry job (the worker) cancels it as it would any unpaid order.
    DemoOrder(
        0,
        _guest(8, "ياسمين طارق", "IS", "الإسماعيلية", "حي الشيخ زايد، فيلا ١٨"),
        WAITING,
        (("طبق خوص للخبز", 1),),
    ),
]

_STAMPS = {
    "accept": "accepted_at",
    "ship": "shipped_at",
    "deliver": "delivered_at",
    "cash": "cash_collected_at",
    "cancel": "cancelled_at",
}


def _orders(users: dict[str, User], products: dict[str, Product]) -> None:
    now = utcnow()
    for demo in ORDERS:
        _order(demo, now, users, products)


def _order(demo: DemoOrder, now: datetime, users, products) -> Order:
    placed = now - timedelta(days=demo.days_ago)
    coordinator = users["01000000001"]
    wanted = [
        rules.Wanted(products[title].id, quantity, products[title].price)
        for title, quantity in demo.lines
    ]
    order = rules.place(
        wanted,
        demo.delivery,
        method="cod" if demo.pay == COD else "stripe",
        online=demo.pay != COD,
        buyer=users["01000000002"] if demo.by_account else None,
        locale="ar",
    )
    payment = db.session.scalars(sa.select(Payment).where(Payment.order_id == order.id)).one()
    opened = placed
    if demo.pay == PAID:
        rules.payment_received(payment, f"pi_demo_{order.number}")
        opened = placed + timedelta(minutes=4)
        order.paid_at = payment.paid_at = opened
    elif demo.pay == EXPIRED:
        rules.payment_failed(payment)
        order.closed_at = placed + rules.PAY_WINDOW
        for part in order.parts:
            part.cancelled_at = order.closed_at
    if demo.days_ago:
        order.created_at = payment.created_at = placed
        if order.pay_by is not None:
            order.pay_by = placed + rules.PAY_WINDOW
    for part in order.parts:
        part.updated_at = part.cancelled_at or opened
    db.session.flush()
    for phone, move, days_ago, *details in demo.moves:
        artisan_id = users[phone].artisan_profile.id
        part = next(part for part in order.parts if part.artisan_id == artisan_id)
        when = now - timedelta(days=days_ago)
        _move(part, move, details, by=users[phone], coordinator=coordinator, when=when)
        setattr(part, _STAMPS[move], when)
        part.updated_at = when
        if move == "cash" and payment.paid_at is not None:
            payment.paid_at = when
        if order.status in (OrderStatus.COMPLETED, OrderStatus.CANCELLED):
            order.closed_at = when
        db.session.flush()
    _backdate_notifications(order, opened)
    return order


def _move(part: OrderPart, move: str, details: list, *, by: User, coordinator: User, when):
    """One move through the rules: hers, but a delivery and the cash are told to staff."""
    if move == "accept":
        ready_by = None
        if rules.needs_date(part):
            days = max(item.days_to_make or 0 for item in part.items)
            ready_by = max(when.astimezone(EGYPT).date() + timedelta(days=days), today_in_egypt())
        rules.accept(part, by=by, ready_by=ready_by)
    elif move == "ship":
        courier, tracking_number = details
        rules.ship(part, by=by, courier=courier, tracking_number=tracking_number)
    elif move == "deliver":
        rules.deliver(part, by=coordinator)
    elif move == "cash":
        rules.record_cash(part, by=coordinator)
    elif move == "cancel":
        reason, note = details
        rules.cancel(part, by=by, reason=reason, note=note)
    else:
        raise ValueError(move)


def _backdate_notifications(order: Order, opened: datetime) -> None:
    """Her "new order" notification came when the order was on; read once she acted on it."""
    for part in order.parts:
        acted = part.accepted_at or (part.cancelled_at if part.cancel_reason else None)
        for notification in db.session.scalars(
            sa.select(Notification).where(
                Notification.kind == "order_new", Notification.link == f"/parts/{part.id}"
            )
        ):
            notification.created_at = opened
            notification.read_at = acted
    db.session.flush()


def logins() -> list[str]:
    lines = [f"Demo logins (password for all: {PASSWORD})"]
    for role, _name, phone, email, details, verified in PEOPLE:
        note = ""
        if details is not None:
            note = " (verified)" if verified else " (waiting for verification)"
        lines.append(f"  {role.value:<12} {phone or email}{note}")
    # Printed on every run, also over a database loaded before there were demo orders: so
    # it says what loading does, not what this database holds.
    lines += [
        "Orders: the buyer's at /account/orders, an artisan's at /studio/orders, staff's at"
        " /review/orders",
        "  (loading an empty database places orders in every state, cash on delivery and card;",
        "  a cart lives in a browser's session cookie, so no cart is loaded)",
        "Grants: the artisans' at /studio/grants and /studio/money, staff's at /review/grants",
    ]
    return lines


# --- A catalogue at scale: `flask demo --scale 100000` --------------------------------------

SCALE_PHONE_PREFIX = "+20115"  # +20115xxxxxxx: no real demo person uses these
NAMES = [
    "فاطمة",
    "أمينة",
    "هدى",
    "سعاد",
    "زينب",
    "مريم",
    "نادية",
    "سامية",
    "رحاب",
    "صفاء",
    "عزة",
    "منال",
    "إيمان",
    "آمال",
    "هالة",
    "رشا",
    "دعاء",
    "نجلاء",
    "وفاء",
    "شيماء",
]
THINGS = {
    "basketry": ["سلة", "طبق خوص", "حصيرة", "شنطة خوص", "غطاء طبق", "مروحة خوص"],
    "embroidery": ["شال مطرز", "مفرش مطرز", "وسادة مطرزة", "فستان سيوي", "حقيبة مطرزة"],
    "pottery": ["زير فخار", "طبق فخار", "قلة", "مبخرة فخار", "إناء زرع"],
    "textiles": ["كليم", "سجادة يدوية", "بطانية صوف", "مفرش منسوج"],
    "jewellery": ["عقد فضة", "أساور نحاس", "حلق خرز", "خاتم فضة"],
    "leather": ["محفظة جلد", "حقيبة جلد", "حزام جلد"],
    "wood": ["علبة خشب", "صينية خشب", "ملعقة خشب"],
    "glass": ["فانوس زجاج", "كوب زجاج منفوخ", "مزهرية زجاج"],
    "other": ["دمية قماش", "شمعة يدوية", "صابون طبيعي"],
}
QUALITIES = [
    "ملون",
    "كبير",
    "صغير",
    "تقليدي",
    "من أسوان",
    "من سيوة",
    "بالخرز",
    "أخضر",
    "أحمر",
    "أزرق",
    "handmade",
    "natural",
    "للهدايا",
    "للمطبخ",
    "من النخيل",
]


def load_scale(products: int, artisans: int, *, echo=lambda _msg: None) -> bool:
    """Bulk-insert `artisans` verified artisans and `products` listings (mostly live), each
    with one photo from a small pool made by the real pipeline. False if already loaded."""
    from artisan_market.accounts.models import ArtisanProfile
    from artisan_market.accounts.passwords import hash_password
    from artisan_market.catalog.models import ProductPhoto
    from artisan_market.catalog.search import search_columns_for
    from artisan_market.egypt import CRAFTS, GOVERNORATES
    from artisan_market.media.services import save_photo

    exists = db.session.scalar(
        sa.select(User.id).where(User.phone.like(SCALE_PHONE_PREFIX + "%")).limit(1)
    )
    if exists:
        return False
    rng = random.Random(2026)  # noqa: S311 (demo data)
    now = utcnow()
    password_hash = hash_password(PASSWORD)
    organisation = Organisation(name_ar="تحالف العرض التجريبي", name_en="Scale demo coalition")
    db.session.add(organisation)
    db.session.flush()
    categories = {c.slug: c for c in db.session.scalars(sa.select(Category))}
    pool = []
    for seed in range(12):
        photo = prepare_photo(io.BytesIO(demo_photo(1000 + seed)))
        largest = photo.largest("webp")
        pool.append((save_photo(photo), largest.width, largest.height))

    def next_id(model) -> int:
        return (db.session.scalar(sa.select(sa.func.max(model.id))) or 0) + 1

    user_id, profile_id = next_id(User), next_id(ArtisanProfile)
    governorates, crafts = list(GOVERNORATES), list(CRAFTS)
    users, profiles = [], []
    for n in range(artisans):
        # Every craft in every governorate (the craft does not follow from the governorate),
        # so each combination of the shop's filters finds listings.
        craft = crafts[(n // len(governorates)) % len(crafts)]
        users.append(
            {
                "id": user_id + n,
                "name": f"{NAMES[n % len(NAMES)]} {n}",
                "phone": f"{SCALE_PHONE_PREFIX}{n:07d}",
                "password_hash": password_hash,
                "role": Role.ARTISAN.value,
                "locale": "ar",
                "is_active": True,
                "session_nonce": f"scale{n}",
                "created_at": now,
            }
        )
        profiles.append(
            {
                "id": profile_id + n,
                "user_id": user_id + n,
                "display_name": f"{NAMES[n % len(NAMES)]} {n}",
                "governorate": governorates[(n * 7) % len(governorates)],
                "village": "قرية",
                "craft": craft,
                "story": "",
                "verification": VerificationStatus.VERIFIED.value,
                "verified_at": now,
                "organisation_id": organisation.id,
                "decline_reason": "",
                "created_at": now,
            }
        )
    _bulk(sa.insert(User), users)
    _bulk(sa.insert(ArtisanProfile), profiles)
    echo(f"  {artisans} artisans")

    product_id, photo_id = next_id(Product), next_id(ProductPhoto)
    rows, photos = [], []
    for n in range(products):
        profile = profiles[n % artisans]
        slug = profile["craft"] if profile["craft"] in categories else "other"
        category = categories[slug]
        title = f"{rng.choice(THINGS[slug])} {rng.choice(QUALITIES)}"
        made_to_order = n % 5 == 0
        status = ListingStatus.LIVE if n % 20 else ListingStatus.SOLD_OUT
        created = now - timedelta(minutes=products - n)
        rows.append(
            {
                "id": product_id + n,
                "artisan_id": profile["id"],
                "category_id": category.id,
                "title": title,
                "description": "قطعة مصنوعة يدويًا بالكامل من خامات طبيعية.",
                "materials": "خامات طبيعية",
                "price": rng.randrange(50, 3000) * 100,
                "currency": "EGP",
                "made_to_order": made_to_order,
                "stock": 0 if made_to_order or status is ListingStatus.SOLD_OUT else 3,
                "days_to_make": 7 if made_to_order else None,
                "size": "",
                "weight_grams": None,
                "status": status.value,
                "rejection_note": "",
                "submitted_at": created,
                "reviewed_at": created,
                "created_at": created,
                "updated_at": created,
                **search_columns_for(
                    title=title,
                    description="قطعة مصنوعة يدويًا بالكامل من خامات طبيعية.",
                    materials="خامات طبيعية",
                    category_ar=category.name_ar,
                    category_en=category.name_en,
                    display_name=profile["display_name"],
                    governorate=profile["governorate"],
                    craft=profile["craft"],
                ),
            }
        )
        derivatives, width, height = pool[n % len(pool)]
        photos.append(
            {
                "id": photo_id + n,
                "product_id": product_id + n,
                "position": 0,
                "alt_text": "",
                "derivatives": derivatives,
                "width": width,
                "height": height,
                "created_at": created,
            }
        )
        if len(rows) == 5000:
            _bulk(sa.insert(Product), rows)
            _bulk(sa.insert(ProductPhoto), photos)
            rows, photos = [], []
            echo(f"  {n + 1} products")
    _bulk(sa.insert(Product), rows)
    _bulk(sa.insert(ProductPhoto), photos)
    _fix_sequences()
    return True


def analyse() -> None:
    """Fresh planner statistics after a bulk load, for every table: PostgreSQL would ignore
    the GIN index, and with 5,000 artisans it still believed in the handful of an empty
    database, it joined them by a nested loop (440 ms for a page)."""
    bind = db.session.get_bind()
    if bind.dialect.name == "postgresql":
        with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def _bulk(statement, rows: list[dict]) -> None:
    if rows:
        db.session.execute(statement, rows)


def _fix_sequences() -> None:
    """PostgreSQL: explicit ids leave the sequences behind; move them past the new rows."""
    if dialect_name() != "postgresql":
        return
    for table in ("users", "artisan_profiles", "products", "product_photos", "organisations"):
        db.session.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        )
