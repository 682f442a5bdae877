"""Demo data for `flask demo`: people in every role and listings in every status.

Every demo photo is drawn here and then goes through the same pipeline as an upload.
"""

from __future__ import annotations

import io
import random
from datetime import timedelta

import sqlalchemy as sa
from PIL import Image, ImageDraw

from artisan_market.accounts import services as accounts
from artisan_market.accounts.models import Organisation, Role, User, VerificationStatus
from artisan_market.accounts.phones import normalise_phone
from artisan_market.catalog import listings
from artisan_market.catalog.models import Category, ListingStatus, Product, RejectionReason
from artisan_market.database import dialect_name
from artisan_market.extensions import db
from artisan_market.media.services import prepare_photo
from artisan_market.timeutil import utcnow

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
]

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
    for seed, (phone, slug, title, pounds, status) in enumerate(LISTINGS):
        _listing(users[phone], categories[slug], title, pounds * 100, status, seed, coordinator)
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
    terms = listings.ListingTerms(price=price, made_to_order=False, stock=3, days_to_make=None)
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


def logins() -> list[str]:
    lines = [f"Demo logins (password for all: {PASSWORD})"]
    for role, _name, phone, email, details, verified in PEOPLE:
        note = ""
        if details is not None:
            note = " (verified)" if verified else " (waiting for verification)"
        lines.append(f"  {role.value:<12} {phone or email}{note}")
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
