"""Turn an uploaded photo into the re-encoded derivatives that the site serves.

The uploaded bytes are never served. ``process_photo`` decodes them once and writes
fresh WebP files at a few widths (for ``srcset``) plus one JPEG (for link previews),
all upright, in sRGB, without transparency and without a single byte of metadata:
no EXIF (GPS above all: it is where the artisan lives), no XMP, no ICC profile, no
comment.

What is refused, and why (each refusal is a :class:`PhotoRejected` carrying a
translatable, plain-words message and a short machine ``reason``):

``empty``
    zero bytes: an upload that never started.
``too_large``
    more than ``max_bytes``; at most ``max_bytes + 1`` bytes are ever read.
``too_many_pixels``
    the header declares more than ``max_pixels``; checked before any pixel is
    decoded, because a few bytes can claim billions of pixels (decompression bomb).
``unsupported_format``
    anything that is not JPEG, PNG, WebP, HEIC/HEIF, AVIF or a phone MPO: GIF, BMP,
    TIFF, SVG, a web page renamed ``.jpg``, random bytes. Pillow is only allowed to
    try the formats above, so no other (rarely exercised) decoder ever sees the bytes.
``damaged``
    the file starts like a photo but cannot be decoded: cut short by a weak
    connection, corrupt. Every unexpected exception raised while decoding becomes
    this refusal, so a broken upload is a message to the artisan, never a 500.

The module depends on Pillow and pillow-heif only (and on flask-babel's
``lazy_gettext``, which needs no application context until a message is rendered).
"""

from __future__ import annotations

import hashlib
import io
import logging
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import BinaryIO, Final

import pillow_heif
from flask_babel import lazy_gettext
from PIL import Image, ImageCms, ImageFile, UnidentifiedImageError, features

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PIXELS",
    "Derivative",
    "PhotoRejected",
    "ProcessedPhoto",
    "process_photo",
]

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES: Final = 20 * 1024 * 1024
DEFAULT_MAX_PIXELS: Final = 50_000_000

# Off-white of the site's cards: transparent areas are flattened onto it, so a cut-out
# product photo looks the same in a WebP and in the link-preview JPEG (no alpha there).
BACKGROUND: Final = (250, 247, 242)

# The widths of the WebP derivatives (for srcset). What a page needs on the phones buyers
# use: a card is 46% of a 360-412 px screen (166-190 CSS px: 290-400 device pixels at DPR
# 1.75-2, 540 at DPR 3); the product photo the whole width (690-1080 device pixels). 960
# is the widest: at 1280 a phone with DPR 1.75 takes a file 1.7x heavier for pixels it
# cannot show, and Lighthouse's LCP (slow 4G) paid 0.1 s for it. Desktop (560 CSS px,
# 1120 at DPR 2) makes do with 960; the JPEG (link previews) stays 1200 wide.
WEBP_WIDTHS: Final = (320, 400, 640, 960)
WEBP_QUALITY: Final = 80
# libwebp's methods 3-6 switch on rate-distortion optimisation. Measured here on a 12 MP
# phone photo, method 4 took 2.3x the time of method 2 (206 ms vs 88 ms for a 1280x1707
# file) for 2% fewer bytes: the budget for all derivatives does not fit method 4. Method 1
# then took 25% less time than method 2 (85 ms vs 112 ms for 1280x1707, `make bench`'s
# photo) for the same bytes (+/-1.5%) and the same PSNR; method 0 saves 17 ms more but
# costs 4-8% more bytes on the derivative phones download most.
WEBP_METHOD: Final = 1
JPEG_QUALITY: Final = 82
# The JPEG only feeds link previews (WhatsApp, Facebook), which fetch it whole and never
# show a progressive scan; progressive encoding doubled its time here for 1.4% fewer bytes.
JPEG_PROGRESSIVE: Final = False
# Optimised Huffman tables take a second pass: 2.5x the encoding time (18 ms vs 7 ms at
# 1200x1600) for 1% fewer bytes on a file only link-preview robots fetch.
JPEG_OPTIMIZE: Final = False
# Hamming (a windowed sinc with half of bicubic's support) is antialiased when reducing
# and cost ~35% less than bicubic here. After JPEG draft decoding every remaining step is
# small (1.07x to 2x), where the filters differ least: 0.3-0.5 dB PSNR against a
# full-size Lanczos reference once encoded, no visible difference, and 2-4% fewer bytes.
RESAMPLE: Final = Image.Resampling.HAMMING
# Reductions by 2x or more (each derivative from the one twice as wide) start with
# Image.reduce, a box average that costs a fifth of a filtered resize; the filter only
# does what is left (at most 2x). 1.0 is the smallest gap Pillow allows.
DERIVATIVE_REDUCING_GAP: Final = 1.0

# Pillow's own guard against decompression bombs: open() warns above this many pixels
# and raises above twice as many. Our per-call ``max_pixels`` check is the real limit;
# this global is a backstop for every other Pillow caller in the process. process_photo
# turns the warning into an error locally, so it never leaks into logs or test runs.
Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS

# HEIC/HEIF through pillow-heif. Thumbnails, depth and auxiliary images are never used
# here: not decoding them saves memory and keeps less of libheif exposed to uploads.
# libheif applies the HEIF rotation itself and resets the EXIF orientation to 1.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


def _pillow_decodes_avif() -> bool:
    try:
        return features.check_module("avif")
    except ValueError:  # Pillow < 11.3 does not even know the name
        return False


# AVIF: Pillow >= 11.3 wheels decode it natively. Older pillow-heif releases (< 1.0)
# shipped an AVIF opener instead; use it only when Pillow itself cannot.
if not _pillow_decodes_avif():  # pragma: no cover - depends on the installed wheels
    _register_avif = getattr(pillow_heif, "register_avif_opener", None)
    if _register_avif is not None:
        _register_avif(thumbnails=False, depth_images=False, aux_images=False)

Image.init()
# Formats Pillow may try on an upload; everything else is never even identified.
# MPO has no opener of its own: the JPEG opener returns an MpoImageFile for it.
_OPEN_FORMATS: Final = tuple(
    name for name in ("JPEG", "PNG", "WEBP", "AVIF", "HEIF") if name in Image.OPEN
)
_ACCEPTED_FORMATS: Final = frozenset({*_OPEN_FORMATS, "MPO"})
# Formats whose decoder can scale by 1/2, 1/4 or 1/8 while decoding (libjpeg DCT scaling).
_DRAFT_FORMATS: Final = frozenset({"JPEG", "MPO"})

# EXIF orientation -> the transpose that makes the image upright (as ImageOps.exif_transpose).
_ORIENTATION_TRANSPOSE: Final = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SWAPS_AXES: Final = frozenset({5, 6, 7, 8})
_EXIF_ORIENTATION_TAG: Final = 0x0112
_SRGB_PROFILE: Final = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class PhotoRejected(Exception):
    """An upload that cannot become a product photo.

    ``message`` is a lazy, translatable string for the person who uploaded the file
    (its msgid is plain English); ``reason`` is a short machine code for logs, metrics
    and tests: ``empty``, ``too_large``, ``too_many_pixels``, ``unsupported_format``
    or ``damaged``.
    """

    def __init__(self, message: object, *, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason

    def __repr__(self) -> str:
        return f"PhotoRejected(reason={self.reason!r}, message={str(self.message)!r})"


@dataclass(frozen=True)
class Derivative:
    """One re-encoded file: what is stored and served, under a content-hashed key."""

    kind: str  # "webp" or "jpeg"
    width: int
    height: int
    data: bytes
    content_type: str
    key: str  # first 20 hex digits of sha256(data), "-{width}", extension

    def __repr__(self) -> str:  # keep the bytes out of logs and test reports
        return (
            f"Derivative(kind={self.kind!r}, width={self.width}, height={self.height}, "
            f"bytes={len(self.data)}, key={self.key!r})"
        )


@dataclass(frozen=True)
class ProcessedPhoto:
    """The derivatives of one upload.

    ``width`` and ``height`` are those of the largest WebP derivative (upright), for
    the ``width``/``height`` attributes of ``<img>``; every derivative has the same
    aspect ratio, give or take the rounding of one pixel.
    """

    width: int
    height: int
    derivatives: tuple[Derivative, ...]

    def srcset(self, url_for_key: Callable[[str], str]) -> str:
        """``srcset`` value for the WebP derivatives, narrowest first."""
        webps = sorted((d for d in self.derivatives if d.kind == "webp"), key=_by_width)
        return ", ".join(f"{url_for_key(d.key)} {d.width}w" for d in webps)

    def largest(self, kind: str = "webp") -> Derivative:
        """The widest derivative of ``kind``; ``ValueError`` if there is none."""
        candidates = [d for d in self.derivatives if d.kind == kind]
        if not candidates:
            raise ValueError(f"no {kind!r} derivative")
        return max(candidates, key=_by_width)


def _by_width(derivative: Derivative) -> int:
    return derivative.width


_ENCODINGS: Final = {
    # kind: (Pillow format, extension, content type, save options)
    "webp": (
        "WEBP",
        "webp",
        "image/webp",
        {"quality": WEBP_QUALITY, "method": WEBP_METHOD},
    ),
    "jpeg": (
        "JPEG",
        "jpg",
        "image/jpeg",
        {"quality": JPEG_QUALITY, "progressive": JPEG_PROGRESSIVE, "optimize": JPEG_OPTIMIZE},
    ),
}


def process_photo(
    stream: BinaryIO,
    *,
    widths: Iterable[int] = WEBP_WIDTHS,
    jpeg_width: int = 1200,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> ProcessedPhoto:
    """Decode an uploaded photo and return its WebP and JPEG derivatives.

    One WebP per requested width, and one JPEG at most ``jpeg_width`` wide. A photo
    narrower than a requested width is never upscaled: that width collapses to the
    photo's own width, and widths that collapse together give one derivative.

    Pillow's own pixel guard (``Image.MAX_IMAGE_PIXELS``, set to
    ``DEFAULT_MAX_PIXELS`` by this module) still applies: a ``max_pixels`` above it
    does not let larger photos through.

    Raises :class:`PhotoRejected` for every upload that cannot be used (see the
    module docstring), and ``ValueError`` for widths that are not positive.
    """
    targets = sorted({int(w) for w in widths})
    if not targets or targets[0] <= 0 or jpeg_width <= 0:
        raise ValueError("widths and jpeg_width must be positive")
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # A global switch elsewhere in the process would make Pillow pad cut-off
        # uploads with grey and accept them; refuse to run rather than publish those.
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES must stay False")

    data = _read_at_most(stream, max_bytes + 1)
    if not data:
        raise PhotoRejected(
            lazy_gettext("This file is empty. Please choose a photo and try again."),
            reason="empty",
        )
    if len(data) > max_bytes:
        raise PhotoRejected(
            lazy_gettext(
                "This photo is too large. Please choose a photo smaller than %(limit)s MB.",
                limit=max(1, max_bytes // (1024 * 1024)),
            ),
            reason="too_large",
        )

    im = _open_header(data, max_pixels)
    try:
        plan = _Plan.for_image(im, targets, jpeg_width)
        base = _decode(im, plan)
    except Exception as exc:
        # Decoders raise OSError, ValueError, SyntaxError, struct.error, EOFError,
        # pillow-heif's own errors... for broken files. Whatever it is, it is the
        # upload's fault as far as the artisan is concerned; the log keeps the detail.
        log.info("photo refused as damaged: %s: %s", type(exc).__name__, exc)
        raise _damaged() from exc
    finally:
        im.close()
    # Encoding works on our own clean 8-bit RGB image: a failure there is a bug or a
    # broken server, not a broken upload, so it is not disguised as one.
    return _derive(base, plan)


def _read_at_most(stream: BinaryIO, limit: int) -> bytes:
    """Read until EOF or ``limit`` bytes, whichever comes first.

    A single ``read(n)`` may legally return fewer than ``n`` bytes before EOF (raw
    and network streams do), so loop; never ask for more than ``limit`` in total.
    """
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = stream.read(min(remaining, 1024 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _open_header(data: bytes, max_pixels: int) -> ImageFile.ImageFile:
    """Identify the format and read the header; no pixel data is decoded here."""
    try:
        with warnings.catch_warnings():
            # Pillow warns (rather than raises) between MAX_IMAGE_PIXELS and twice that;
            # make it an error here so it is a refusal, not a log line. (catch_warnings
            # is process-global; a race with another thread can at worst leave this
            # same filter installed, which is harmless.)
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=_OPEN_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(max_pixels) from exc
    except UnidentifiedImageError as exc:
        raise _unsupported() from exc
    except Exception as exc:
        log.info("photo header refused as damaged: %s: %s", type(exc).__name__, exc)
        raise _damaged() from exc

    if im.format not in _ACCEPTED_FORMATS:  # pragma: no cover - formats= prevents it
        im.close()
        raise _unsupported()
    width, height = im.size
    if width <= 0 or height <= 0:
        im.close()
        raise _damaged()
    if width * height > max_pixels:
        im.close()
        raise _too_many_pixels(max_pixels)
    return im


@dataclass(frozen=True)
class _Plan:
    """What will be made from one photo, in upright pixels."""

    orientation: int  # EXIF orientation, 1 when absent or unreadable
    width: int  # upright size of the photo as uploaded
    height: int
    webp_widths: tuple[int, ...]  # ascending, never above ``width``
    jpeg_width: int

    @classmethod
    def for_image(cls, im: Image.Image, targets: list[int], jpeg_width: int) -> _Plan:
        orientation = _orientation(im)
        width, height = im.size
        if orientation in _SWAPS_AXES:
            width, height = height, width
        # Never wider than the photo (no upscaling); widths that collapse merge.
        webp_widths = tuple(sorted({min(w, width) for w in targets}))
        return cls(orientation, width, height, webp_widths, min(jpeg_width, width))

    @property
    def base_width(self) -> int:
        return max(self.webp_widths[-1], self.jpeg_width)

    def size_at(self, width: int) -> tuple[int, int]:
        """Upright size of a derivative ``width`` pixels wide (aspect ratio kept)."""
        return width, max(1, round(self.height * width / self.width))

    def stored(self, size: tuple[int, int]) -> tuple[int, int]:
        """``size`` on the axes of the file as stored (before the EXIF rotation)."""
        return (size[1], size[0]) if self.orientation in _SWAPS_AXES else size


def _decode(im: ImageFile.ImageFile, plan: _Plan) -> Image.Image:
    """Decode just enough pixels for the widest derivative and return them upright,
    8-bit sRGB RGB, opaque, at ``plan.size_at(plan.base_width)``, with no metadata."""
    base_size = plan.stored(plan.size_at(plan.base_width))
    if im.format in _DRAFT_FORMATS:
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale, never below what the widest
        # derivative needs: a 12 MP photo becomes 3 MP before any pixel reaches Pillow.
        # draft() picks the largest reduction that still covers the requested size.
        im.draft("RGB", base_size)

    im.load()  # raises for truncated or corrupt data (LOAD_TRUNCATED_IMAGES is False)
    icc_profile = im.info.get("icc_profile")

    work = _to_rgb_family(im)
    # Resize first: colour management, flattening and rotation then touch at most
    # base_size pixels. reducing_gap lets a huge PNG or HEIC shrink by cheap
    # box-averaging first, with a result indistinguishable from a full convolution.
    if work.size != base_size:
        work = work.resize(base_size, RESAMPLE, reducing_gap=3.0)
    work = _to_srgb(work, icc_profile)
    work = _flatten(work)
    if plan.orientation in _ORIENTATION_TRANSPOSE:
        work = work.transpose(_ORIENTATION_TRANSPOSE[plan.orientation])
    if work is im:
        work = im.copy()  # the file object is closed before encoding
    # Nothing from the upload may ride along into the encoders (some read im.info,
    # e.g. the JPEG comment): start from an empty info dictionary.
    work.info = {}
    return work


def _derive(base: Image.Image, plan: _Plan) -> ProcessedPhoto:
    """Encode every derivative from the upright ``base`` image."""
    # Widest first, so that each smaller image is made from a clean image at least
    # twice as wide (cheap) rather than from the base every time.
    wanted = [("webp", w) for w in plan.webp_widths] + [("jpeg", plan.jpeg_width)]
    wanted.sort(key=lambda item: item[1], reverse=True)
    made: list[Image.Image] = [base]
    encoded: dict[tuple[str, int], Derivative] = {}
    for kind, width in wanted:
        source = min(
            (image for image in made if image.width >= 2 * width),
            key=lambda image: image.width,
            default=base,
        )
        image = _scaled(source, plan.size_at(width))
        made.append(image)
        encoded[kind, width] = _encode(image, kind)

    # WebP narrowest first (srcset order), then the JPEG.
    order = sorted(encoded, key=lambda key: (key[0] != "webp", key[1]))
    largest = encoded["webp", plan.webp_widths[-1]]
    return ProcessedPhoto(largest.width, largest.height, tuple(encoded[key] for key in order))


def _orientation(im: Image.Image) -> int:
    """EXIF orientation (1-8), or 1 when absent or unreadable.

    A broken EXIF block is not a reason to refuse the pixels: it is about to be
    thrown away anyway.
    """
    try:
        value = im.getexif().get(_EXIF_ORIENTATION_TAG, 1)
        return int(value) if int(value) in range(1, 9) else 1
    except Exception:
        return 1


def _to_rgb_family(im: Image.Image) -> Image.Image:
    """Return an 8-bit RGB, RGBA or CMYK image (CMYK is kept for its ICC profile)."""
    mode = im.mode
    if mode in ("RGBA", "CMYK") or (mode == "RGB" and "transparency" not in im.info):
        return im
    if mode == "I" or mode.startswith("I;16"):
        # 16-bit greyscale PNG: convert("L") would clip everything above 255 to white.
        im = im.convert("I").point(lambda value: value / 256).convert("L")
        mode = "L"
    has_alpha = mode in ("LA", "La", "PA", "RGBa") or "transparency" in im.info
    return im.convert("RGBA" if has_alpha else "RGB")


def _to_srgb(im: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Convert to sRGB through the embedded ICC profile (Display P3 from iPhones, CMYK
    print files); without a usable profile, assume sRGB (and convert CMYK naively)."""
    if icc_profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            space = source.profile.xcolor_space.strip()
            if im.mode == "CMYK" and space == "CMYK":
                return _apply_profile(im, source, "RGB")
            if im.mode in ("RGB", "RGBA") and space == "RGB" and not _is_srgb(source):
                return _apply_profile(im, source, im.mode)
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
            # A broken profile is metadata we drop anyway; keep the pixels as they are.
            log.info("ignoring unusable ICC profile: %s", exc)
    if im.mode == "CMYK":
        return im.convert("RGB")
    return im


def _apply_profile(im: Image.Image, source: ImageCms.ImageCmsProfile, mode: str) -> Image.Image:
    converted = ImageCms.profileToProfile(
        im, source, _SRGB_PROFILE, renderingIntent=ImageCms.Intent.PERCEPTUAL, outputMode=mode
    )
    assert converted is not None  # only inPlace=True returns None
    return converted


def _is_srgb(profile: ImageCms.ImageCmsProfile) -> bool:
    """Whether an RGB profile is (a variant of) sRGB, so converting would change nothing.

    Most Android photos carry one; skipping the identity transform saves ~35 ms per
    photo. Judged by name and by the three primaries (the gamut), not the tone curve.
    """
    ours, theirs = _SRGB_PROFILE.profile, profile.profile
    if not theirs.is_matrix_shaper or "srgb" not in (theirs.profile_description or "").lower():
        return False
    for name in ("red_colorant", "green_colorant", "blue_colorant"):
        expected, actual = getattr(ours, name), getattr(theirs, name)
        if actual is None or any(
            abs(a - b) > 0.01 for a, b in zip(expected[0], actual[0], strict=True)
        ):
            return False
    return True


def _flatten(im: Image.Image) -> Image.Image:
    """Composite transparent areas onto the site's light background."""
    if im.mode != "RGBA":
        return im
    background = Image.new("RGB", im.size, BACKGROUND)
    background.paste(im, mask=im.getchannel("A"))
    return background


def _scaled(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    if im.size == size:
        return im
    scaled = im.resize(size, RESAMPLE, reducing_gap=DERIVATIVE_REDUCING_GAP)
    scaled.info = {}
    return scaled


def _encode(im: Image.Image, kind: str) -> Derivative:
    pillow_format, extension, content_type, options = _ENCODINGS[kind]
    buffer = io.BytesIO()
    # No exif=, icc_profile= or xmp= here, ever: outputs carry pixels only.
    im.save(buffer, pillow_format, **options)
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()[:20]
    return Derivative(
        kind=kind,
        width=im.width,
        height=im.height,
        data=data,
        content_type=content_type,
        key=f"{digest}-{im.width}.{extension}",
    )


def _unsupported() -> PhotoRejected:
    return PhotoRejected(
        lazy_gettext(
            "This file is not a photo we can use. "
            "Please send a JPEG, PNG, WebP, HEIC or AVIF photo."
        ),
        reason="unsupported_format",
    )


def _damaged() -> PhotoRejected:
    return PhotoRejected(
        lazy_gettext("This photo is damaged or did not finish uploading. Please try again."),
        reason="damaged",
    )


def _too_many_pixels(max_pixels: int) -> PhotoRejected:
    return PhotoRejected(
        lazy_gettext(
            "This photo is too big (more than %(limit)s megapixels). Please send a smaller photo.",
            limit=max(1, max_pixels // 1_000_000),
        ),
        reason="too_many_pixels",
    )
