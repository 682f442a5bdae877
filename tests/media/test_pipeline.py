"""The photo pipeline: what is accepted, what is refused, and what comes out.

Every accepted photo is checked the same way: each derivative is re-opened from its
bytes and must be upright 8-bit RGB pixels and nothing else (no EXIF, GPS, XMP, ICC
profile or comment, checked both through Pillow and by walking the file's own
structure), at the promised widths, never upscaled, under a content-hashed key.
"""

from __future__ import annotations

import hashlib
import io
import random
import re
import struct
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path

import pillow_heif
import pytest
from flask_babel.speaklater import LazyString
from PIL import (
    Image,
    ImageChops,
    ImageCms,
    ImageDraw,
    ImageFile,
    ImageOps,
    ImageStat,
    PngImagePlugin,
    features,
)

from artisan_market.media import pipeline
from artisan_market.media.pipeline import (
    BACKGROUND,
    Derivative,
    PhotoRejected,
    ProcessedPhoto,
    process_photo,
)
from tests.conftest import FIXTURES

WIDTHS = (320, 400, 640, 960)
JPEG_WIDTH = 1200


# What the fixtures' README asks of the pipeline: "accept", or the refusal reason.
EXPECTED = {
    "ultrahdr.jpg": "damaged",  # pixel data cut off, as after a broken upload
    "exif_gps.jpg": "accept",
    "hopper_orientation_6.jpg": "accept",
    "pil_sample_cmyk.jpg": "accept",
    "sugarshack.mpo": "accept",
    "flower.webp": "accept",
    "exif.avif": "accept",
    "hopper.png": "accept",
    "transparent.png": "accept",
    "invalid-exif.jpg": "accept",  # README allows a clean refusal; we keep the pixels
    "truncated_jpeg.jpg": "damaged",
    "decompression_bomb.gif": "unsupported_format",  # GIF is never even parsed
}
NOT_IMAGES = {"README.md", "LICENSE-Pillow.txt"}


# --------------------------------------------------------------------------- helpers


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def run(data: bytes, **kwargs) -> ProcessedPhoto:
    return process_photo(io.BytesIO(data), **kwargs)


def refusal(data: bytes, **kwargs) -> PhotoRejected:
    with pytest.raises(PhotoRejected) as info:
        run(data, **kwargs)
    return info.value


def encode(im: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, fmt, **options)
    return buffer.getvalue()


def decoded(derivative: Derivative) -> Image.Image:
    with Image.open(io.BytesIO(derivative.data)) as im:
        im.load()
        return im.copy()


def mean_abs_diff(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel, 0-255 (sizes must match)."""
    assert a.size == b.size
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def mean_colour(im: Image.Image) -> tuple[float, ...]:
    return tuple(ImageStat.Stat(im).mean)


def close_to(actual: tuple[float, ...], expected: tuple[float, ...], tolerance: float) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def upright_source(data: bytes) -> Image.Image:
    """The source as Pillow shows it upright: first frame, EXIF orientation applied."""
    with Image.open(io.BytesIO(data)) as im:
        converted = im.convert("RGBA" if im.has_transparency_data else "RGB")
        try:
            return ImageOps.exif_transpose(converted)
        except SyntaxError:  # invalid-exif.jpg: Pillow itself cannot read that EXIF
            return converted


def jpeg_markers(data: bytes) -> list[int]:
    """Markers of the segments before the image data (SOS), in file order."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    markers, i = [], 2
    while i < len(data):
        assert data[i] == 0xFF, f"broken JPEG structure at byte {i}"
        marker = data[i + 1]
        i += 2
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        length = int.from_bytes(data[i : i + 2], "big")
        markers.append(marker)
        i += length
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
    return markers


def webp_chunks(data: bytes) -> list[bytes]:
    """FourCCs of the chunks of a RIFF/WebP file."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP", "not a WebP"
    chunks, i = [], 12
    while i + 8 <= len(data):
        fourcc, size = data[i : i + 4], int.from_bytes(data[i + 4 : i + 8], "little")
        chunks.append(fourcc)
        if fourcc == b"VP8X":
            # flags: ICC 0x20, alpha 0x10, EXIF 0x08, XMP 0x04, animation 0x02
            assert data[i + 8] & 0x3E == 0, "VP8X announces metadata, alpha or animation"
        i += 8 + size + (size & 1)
    return chunks


def assert_clean(derivative: Derivative) -> Image.Image:
    """The derivative is what it says and carries pixels only; returns it decoded."""
    data = derivative.data
    assert derivative.key == f"{hashlib.sha256(data).hexdigest()[:20]}-{derivative.width}." + (
        "webp" if derivative.kind == "webp" else "jpg"
    )
    if derivative.kind == "webp":
        assert derivative.content_type == "image/webp"
        assert set(webp_chunks(data)) <= {b"VP8 ", b"VP8L", b"VP8X"}
    else:
        assert derivative.kind == "jpeg"
        assert derivative.content_type == "image/jpeg"
        markers = jpeg_markers(data)
        # APP0 (JFIF), quantisation and Huffman tables, frame, restart interval, scan.
        # No APP1 (EXIF, XMP), APP2 (ICC), APP13 (IPTC), other APPn or COM (comment).
        assert set(markers) <= {0xE0, 0xDB, 0xC4, 0xC0, 0xC1, 0xC2, 0xDD, 0xDA}, markers
    for needle in (b"Exif\x00\x00", b"ICC_PROFILE", b"http://ns.adobe.com/xap", b"<x:xmpmeta"):
        assert needle not in data

    with Image.open(io.BytesIO(data)) as im:
        im.load()
        assert im.format == ("WEBP" if derivative.kind == "webp" else "JPEG")
        assert im.mode == "RGB"
        assert im.size == (derivative.width, derivative.height)
        assert getattr(im, "n_frames", 1) == 1
        exif = im.getexif()
        assert len(exif) == 0
        assert not exif.get_ifd(0x8825)  # GPS
        for key in ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment", "photoshop"):
            assert key not in im.info, key
        return im.copy()


def assert_shape(photo: ProcessedPhoto, upright_size: tuple[int, int]) -> None:
    """Widths as promised, aspect ratio kept, nothing upscaled."""
    width, height = upright_size
    webps = [d for d in photo.derivatives if d.kind == "webp"]
    jpegs = [d for d in photo.derivatives if d.kind == "jpeg"]
    assert [d.width for d in webps] == sorted({min(w, width) for w in WIDTHS})
    assert [d.width for d in jpegs] == [min(JPEG_WIDTH, width)]
    for d in photo.derivatives:
        assert d.width <= width and d.height <= height
        assert abs(d.height - height * d.width / width) <= 1
    assert (photo.width, photo.height) == (webps[-1].width, webps[-1].height)
    assert photo.largest() is webps[-1]
    assert photo.largest("jpeg") is jpegs[0]
    assert len({d.key for d in photo.derivatives}) == len(photo.derivatives)


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Record any attempt to decode pixel data (the test then asserts there was none)."""
    calls: list[str] = []
    real_load, real_getdecoder = ImageFile.ImageFile.load, Image._getdecoder

    def load(self, *args, **kwargs):
        calls.append(f"load {self.format} {self.size}")
        return real_load(self, *args, **kwargs)

    def getdecoder(*args, **kwargs):
        calls.append(f"decoder {args[:2]}")
        return real_getdecoder(*args, **kwargs)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    monkeypatch.setattr(Image, "_getdecoder", getdecoder)
    yield calls


# -------------------------------------------------------------------------- fixtures


def test_fixture_folder_is_there_and_every_file_has_an_expected_outcome() -> None:
    assert FIXTURES.is_dir(), f"image fixtures not found at {FIXTURES} (set ARTISAN_FIXTURES)"
    present = {p.name for p in FIXTURES.iterdir()} - NOT_IMAGES
    assert present == set(EXPECTED)


@pytest.mark.parametrize(
    "name", sorted(n for n, outcome in EXPECTED.items() if outcome == "accept")
)
def test_accepted_fixture_comes_out_clean(name: str) -> None:
    data = fixture_bytes(name)
    photo = run(data)
    source = upright_source(data)
    assert_shape(photo, source.size)
    for derivative in photo.derivatives:
        assert_clean(derivative)


@pytest.mark.parametrize(
    "name", sorted(n for n, outcome in EXPECTED.items() if outcome != "accept")
)
def test_refused_fixture_gets_a_clear_message(name: str) -> None:
    rejected = refusal(fixture_bytes(name))
    assert rejected.reason == EXPECTED[name]
    assert isinstance(rejected.message, LazyString)
    assert str(rejected.message).endswith(".")
    assert str(rejected) == str(rejected.message)


def test_broken_uploads_say_try_again() -> None:
    for name in ("truncated_jpeg.jpg", "ultrahdr.jpg"):
        message = str(refusal(fixture_bytes(name)).message)
        assert "damaged" in message and "try again" in message


def test_decompression_bomb_is_refused_without_decoding(no_decoding: list[str]) -> None:
    assert refusal(fixture_bytes("decompression_bomb.gif")).reason == "unsupported_format"
    assert no_decoding == []


def test_orientation_6_fixture_comes_out_upright() -> None:
    data = fixture_bytes("hopper_orientation_6.jpg")
    with Image.open(io.BytesIO(data)) as im:
        assert im.getexif()[0x0112] == 6
        as_stored = im.convert("RGB")
    expected = ImageOps.exif_transpose(as_stored)
    out = decoded(run(data).largest())
    # hopper is square, so compare pixels: close to the rotated source, far from the
    # source as stored.
    assert mean_abs_diff(out, expected) < 6
    assert mean_abs_diff(out, as_stored) > 4 * mean_abs_diff(out, expected)


def test_gps_fixture_loses_its_gps() -> None:
    data = fixture_bytes("exif_gps.jpg")
    with Image.open(io.BytesIO(data)) as im:
        assert im.getexif().get_ifd(0x8825), "fixture should carry GPS"
    for derivative in run(data).derivatives:
        assert not assert_clean(derivative).getexif().get_ifd(0x8825)


def test_cmyk_jpeg_becomes_rgb_with_its_colours() -> None:
    data = fixture_bytes("pil_sample_cmyk.jpg")
    with Image.open(io.BytesIO(data)) as im:
        assert im.mode == "CMYK"
        reference = im.convert("RGB")
    for derivative in run(data).derivatives:
        out = assert_clean(derivative)
        assert close_to(mean_colour(out), mean_colour(reference), 4)
        assert mean_abs_diff(out, reference) < 8


def test_mpo_gives_its_first_frame() -> None:
    data = fixture_bytes("sugarshack.mpo")
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "MPO" and im.n_frames == 2
        first = im.convert("RGB")
        im.seek(1)
        second = im.convert("RGB")
    out = decoded(run(data).largest())
    assert out.size == first.size
    assert mean_abs_diff(out, first) < 4
    assert mean_abs_diff(out, first) < mean_abs_diff(out, second) / 2


def test_transparent_png_is_flattened_on_the_light_background() -> None:
    data = fixture_bytes("transparent.png")
    with Image.open(io.BytesIO(data)) as im:
        source = im.convert("RGBA")
    alpha = source.getchannel("A")
    assert alpha.getextrema()[0] == 0, "fixture should have fully transparent pixels"
    for derivative in run(data).derivatives:
        out = assert_clean(derivative)
        mask = alpha.resize(out.size).point(lambda a: 255 if a == 0 else 0)
        bbox = mask.getbbox()
        assert bbox is not None
        # Mean colour where the source was fully transparent: the background colour.
        transparent_mean = ImageStat.Stat(out, mask=mask).mean
        assert close_to(tuple(transparent_mean), BACKGROUND, 6), transparent_mean


def test_avif_fixture_is_decoded_natively_or_through_pillow_heif() -> None:
    assert "AVIF" in pipeline._OPEN_FORMATS
    assert run(fixture_bytes("exif.avif")).largest().width == 512


# --------------------------------------------------------------- a 12 MP phone photo

PHONE_SIZE = (4000, 3000)  # as the sensor stores it; EXIF orientation 6 makes it portrait
MARKER = (0, 60, 250)  # blue, in the stored top-left corner
GPS = {1: "N", 2: (30.0, 2.0, 40.0), 3: "E", 4: (31.0, 14.0, 10.0), 6: 74.0}


def _exif(orientation: int | None = 6, gps: bool = True) -> bytes:
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    if gps:
        exif[0x8825] = dict(GPS)
    return exif.tobytes()


@pytest.fixture(scope="module")
def phone_jpeg() -> bytes:
    im = Image.new("RGB", PHONE_SIZE, (200, 120, 60))
    draw = ImageDraw.Draw(im)
    for x in range(0, PHONE_SIZE[0], 250):
        draw.line((x, 0, x + 800, PHONE_SIZE[1]), fill=(90, 160, 80), width=40)
    draw.rectangle((0, 0, 399, 299), fill=MARKER)
    return encode(im, "JPEG", quality=90, exif=_exif(6))


@pytest.fixture(scope="module")
def phone_photo(phone_jpeg: bytes) -> ProcessedPhoto:
    return process_photo(io.BytesIO(phone_jpeg))


def test_phone_photo_source_really_has_orientation_and_gps(phone_jpeg: bytes) -> None:
    with Image.open(io.BytesIO(phone_jpeg)) as im:
        assert im.size == PHONE_SIZE
        exif = im.getexif()
        assert exif[0x0112] == 6
        assert exif.get_ifd(0x8825)[1] == "N"


def test_phone_photo_derivatives_are_upright_and_promised_sizes(
    phone_photo: ProcessedPhoto,
) -> None:
    assert [(d.kind, d.width, d.height) for d in phone_photo.derivatives] == [
        ("webp", 320, 427),
        ("webp", 400, 533),
        ("webp", 640, 853),
        ("webp", 960, 1280),
        ("jpeg", 1200, 1600),
    ]
    assert (phone_photo.width, phone_photo.height) == (960, 1280)
    assert_shape(phone_photo, (3000, 4000))


def test_phone_photo_marker_lands_top_right(phone_photo: ProcessedPhoto) -> None:
    # Orientation 6: the stored image is shown turned 90 degrees clockwise, so the
    # stored top-left corner is the upright top-right corner.
    for derivative in phone_photo.derivatives:
        out = decoded(derivative)
        w = out.width
        top_right = out.getpixel((w - 1 - w // 40, w // 40))
        top_left = out.getpixel((w // 40, w // 40))
        assert close_to(top_right, MARKER, 12), (derivative, top_right)
        assert not close_to(top_left, MARKER, 60), (derivative, top_left)


def test_phone_photo_loses_gps_and_all_metadata(phone_photo: ProcessedPhoto) -> None:
    for derivative in phone_photo.derivatives:
        assert_clean(derivative)
        assert b"PhoneMaker" not in derivative.data


def test_phone_photo_is_decoded_at_reduced_size(
    phone_jpeg: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded_sizes: list[tuple[int, int]] = []
    real_load = ImageFile.ImageFile.load

    def load(self):
        decoded_sizes.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    process_photo(io.BytesIO(phone_jpeg))
    # libjpeg scaled by 1/2: the widest derivative (the 1200 JPEG upright = 1200 stored
    # rows) still has enough pixels, and nothing decodes the 12 MP in full.
    assert set(decoded_sizes) == {(2000, 1500)}


# ------------------------------------------------------- refused before any decoding


def png_bytes(width: int, height: int, *, rows: int | None = None) -> bytes:
    """A 1-bit greyscale PNG of any size, made without Pillow (nothing is allocated
    for its pixels). With ``rows``, only that many rows of pixel data are included:
    still a valid header, and the pipeline must never get as far as the data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    row = b"\x00" + b"\x00" * ((width + 7) // 8)  # filter byte + packed pixels
    idat = zlib.compress(row * (height if rows is None else rows), 9)
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header claims another size."""
    data = bytearray(encode(Image.new("RGB", (16, 16), "red"), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def test_60_megapixel_png_is_refused_before_decoding(no_decoding: list[str]) -> None:
    data = png_bytes(8000, 7500)
    with pytest.warns(Image.DecompressionBombWarning), Image.open(io.BytesIO(data)) as im:
        assert im.size == (8000, 7500)  # a real, complete PNG (Pillow warns about it)
    no_decoding.clear()
    rejected = refusal(data)
    assert rejected.reason == "too_many_pixels"
    assert "50" in str(rejected.message)
    assert no_decoding == []


def test_pixel_refusal_emits_no_warning_whatever_the_warning_filters() -> None:
    # Pillow warns between MAX_IMAGE_PIXELS and twice that; a refusal is not a warning.
    data = png_bytes(8000, 7500, rows=4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert refusal(data).reason == "too_many_pixels"
    assert [w.message for w in caught] == []


@pytest.mark.parametrize(
    "data",
    [png_bytes(65535, 65535, rows=4), jpeg_claiming(10000, 6000), jpeg_claiming(65535, 65535)],
    ids=["png-4.3-gigapixels", "jpeg-60-megapixels", "jpeg-4.3-gigapixels"],
)
def test_huge_declared_size_is_refused_before_decoding(data: bytes, no_decoding: list[str]) -> None:
    assert refusal(data).reason == "too_many_pixels"
    assert no_decoding == []


def test_pixel_limit_is_the_callers(no_decoding: list[str]) -> None:
    # hopper.png is 128x128 = 16,384 pixels: far below Pillow's own guard.
    assert refusal(fixture_bytes("hopper.png"), max_pixels=16_383).reason == "too_many_pixels"
    assert no_decoding == []
    assert run(fixture_bytes("hopper.png"), max_pixels=16_384).width == 128


class CountingStream(io.RawIOBase):
    """An endless upload of zero bytes that counts what was read from it."""

    def __init__(self) -> None:
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        # A pipeline that ignored the limit would read forever: fail instead of hanging.
        assert self.served < 8 * 1024 * 1024, "read far past the limit"
        n = min(len(buffer), 64 * 1024)  # short reads, like a socket
        buffer[:n] = b"\0" * n
        self.served += n
        return n


def test_30_megabytes_are_too_large() -> None:
    stream = io.BytesIO(b"\xff\xd8\xff\xe0" + b"\0" * (30 * 1024 * 1024))
    with pytest.raises(PhotoRejected) as info:
        process_photo(stream)
    assert info.value.reason == "too_large"
    assert "20 MB" in str(info.value.message)
    assert stream.tell() == 20 * 1024 * 1024 + 1  # never read past the limit


def test_endless_stream_is_read_only_up_to_the_limit() -> None:
    stream = CountingStream()
    with pytest.raises(PhotoRejected) as info:
        process_photo(stream, max_bytes=1024 * 1024)
    assert info.value.reason == "too_large"
    assert stream.served == 1024 * 1024 + 1


def test_exactly_max_bytes_is_allowed() -> None:
    data = fixture_bytes("hopper.png")
    assert run(data, max_bytes=len(data)).width == 128
    assert refusal(data, max_bytes=len(data) - 1).reason == "too_large"


def test_short_reads_are_reassembled() -> None:
    data = fixture_bytes("hopper.png")

    class Trickle(io.RawIOBase):
        def __init__(self) -> None:
            self.position = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            chunk = data[self.position : self.position + 7]
            buffer[: len(chunk)] = chunk
            self.position += len(chunk)
            return len(chunk)

    assert process_photo(Trickle()).width == 128


def test_empty_file_is_refused(no_decoding: list[str]) -> None:
    rejected = refusal(b"")
    assert rejected.reason == "empty"
    assert "empty" in str(rejected.message)
    assert no_decoding == []


HTML = b"<!DOCTYPE html>\n<html><head><title>photo</title></head><body><img src=x></body></html>\n"
SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600">'
    b'<script>alert(1)</script><rect width="800" height="600" fill="red"/></svg>'
)


def test_html_named_jpg_is_refused(tmp_path: Path, no_decoding: list[str]) -> None:
    upload = tmp_path / "IMG_0001.jpg"
    upload.write_bytes(HTML)
    with upload.open("rb") as stream, pytest.raises(PhotoRejected) as info:
        process_photo(stream)
    assert info.value.reason == "unsupported_format"
    assert "JPEG" in str(info.value.message)
    assert no_decoding == []


@pytest.mark.parametrize(
    "data",
    [
        SVG,
        random.Random(20240601).randbytes(200_000),
        b"\xff\xd8\xff" + random.Random(7).randbytes(5000),  # JPEG signature, then noise
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n",
        b"PK\x03\x04" + b"\0" * 100,  # a zip (or a .docx)
    ],
    ids=["svg", "random-bytes", "jpeg-signature-then-noise", "pdf", "zip"],
)
def test_non_images_are_refused(data: bytes, no_decoding: list[str]) -> None:
    assert refusal(data).reason == "unsupported_format"
    assert no_decoding == []


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "ICO", "PPM", "TGA", "PCX", "JPEG2000"])
def test_other_image_formats_are_refused(fmt: str, no_decoding: list[str]) -> None:
    data = encode(Image.new("RGB", (64, 48), (10, 120, 200)), fmt)
    no_decoding.clear()
    assert refusal(data).reason == "unsupported_format"
    assert no_decoding == []


# ------------------------------------------------------- unexpected decoder failures


@pytest.mark.parametrize(
    "error",
    [
        OSError("broken data stream"),
        ValueError("tile cannot extend outside image"),
        SyntaxError("broken PNG file"),
        struct.error("unpack requires a buffer of 4 bytes"),
        EOFError(),
        MemoryError(),
        KeyError("mode"),
        IndexError("list index out of range"),
        ZeroDivisionError(),
        RuntimeError("libheif says no"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_any_decoder_exception_becomes_damaged(
    error: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    def load(self, *args, **kwargs):
        raise error

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    rejected = refusal(fixture_bytes("hopper.png"))
    assert rejected.reason == "damaged"
    assert rejected.__cause__ is error


def test_exception_while_reading_the_header_becomes_damaged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken_open(self):
        raise ValueError("unexpected header")

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "_open", broken_open)
    assert refusal(fixture_bytes("hopper.png")).reason == "damaged"


def test_truncated_png_is_damaged() -> None:
    data = encode(Image.effect_noise((300, 200), 60), "PNG")
    assert refusal(data[: len(data) // 2]).reason == "damaged"


def test_truncated_webp_is_damaged() -> None:
    data = encode(Image.effect_noise((300, 200), 60).convert("RGB"), "WEBP")
    assert refusal(data[: len(data) // 2]).reason == "damaged"


def test_truncated_heic_is_damaged() -> None:
    data = encode(Image.effect_noise((300, 200), 60).convert("RGB"), "HEIF", quality=80)
    assert refusal(data[: len(data) * 2 // 3]).reason == "damaged"


def test_load_truncated_images_switched_on_is_a_loud_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(RuntimeError, match="LOAD_TRUNCATED_IMAGES"):
        run(fixture_bytes("truncated_jpeg.jpg"))


def test_importing_the_pipeline_leaves_truncated_loading_off() -> None:
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


# ------------------------------------------------------------------ other formats


def _marked(size: tuple[int, int] = (600, 400)) -> Image.Image:
    im = Image.new("RGB", size, (200, 30, 30))
    im.paste(MARKER, (0, 0, size[0] // 8, size[1] // 8))
    return im


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF", "WEBP", "PNG", "JPEG"])
def test_orientation_and_gps_in_every_accepted_format(fmt: str) -> None:
    data = encode(_marked(), fmt, exif=_exif(6), quality=90)
    photo = run(data)
    assert_shape(photo, (400, 600))
    for derivative in photo.derivatives:
        out = assert_clean(derivative)
        assert close_to(out.getpixel((out.width - 3, 2)), MARKER, 16), fmt
        assert close_to(out.getpixel((2, out.height - 3)), (200, 30, 30), 16), fmt


def test_heic_round_trip() -> None:
    # pillow-heif in this environment encodes HEIC (x265) as well as decoding it.
    assert pillow_heif.libheif_info()["HEIF"], "this pillow-heif build cannot encode HEIC"
    source = Image.new("RGB", (1600, 1200), (40, 90, 160))
    ImageDraw.Draw(source).ellipse((400, 300, 1200, 900), fill=(240, 200, 40))
    data = encode(source, "HEIF", quality=85, exif=_exif(None))
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "HEIF"
        assert im.getexif().get_ifd(0x8825)
    photo = run(data)
    assert_shape(photo, (1600, 1200))
    for derivative in photo.derivatives:
        out = assert_clean(derivative)
        assert close_to(out.getpixel((out.width // 2, out.height // 2)), (240, 200, 40), 10)


def test_animated_webp_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (200, 100), colour) for colour in ("red", "blue")]
    data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100)
    with Image.open(io.BytesIO(data)) as im:
        assert im.n_frames == 2
    out = assert_clean(run(data).largest())
    assert close_to(out.getpixel((100, 50)), (255, 0, 0), 10)


def test_features_avif_available() -> None:
    # Pillow >= 11.3 wheels decode AVIF themselves; the pipeline relies on it here.
    assert features.check("avif")


# --------------------------------------------------------------- modes and colour


def _png(im: Image.Image, **options) -> bytes:
    return encode(im, "PNG", **options)


def _palette(colour: tuple[int, int, int], transparent: bool) -> tuple[Image.Image, dict]:
    im = Image.new("P", (100, 80), 1)
    im.putpalette([0, 0, 0, *colour] + [0, 0, 0] * 254)
    return im, ({"transparency": 1} if transparent else {})


MODE_CASES = {
    "1-white": (lambda: (Image.new("1", (100, 80), 1), {}), (255, 255, 255)),
    "L-grey": (lambda: (Image.new("L", (100, 80), 100), {}), (100, 100, 100)),
    "LA-transparent": (lambda: (Image.new("LA", (100, 80), (100, 0)), {}), BACKGROUND),
    "LA-opaque": (lambda: (Image.new("LA", (100, 80), (100, 255)), {}), (100, 100, 100)),
    "P-opaque": (lambda: _palette((20, 160, 90), transparent=False), (20, 160, 90)),
    "P-transparent": (lambda: _palette((20, 160, 90), transparent=True), BACKGROUND),
    "RGB-tRNS": (
        lambda: (Image.new("RGB", (100, 80), (10, 20, 30)), {"transparency": (10, 20, 30)}),
        BACKGROUND,
    ),
    "RGBA-half": (
        lambda: (Image.new("RGBA", (100, 80), (255, 0, 0, 128)), {}),
        tuple(
            round((255 * 128 + b * 127) / 255) if i == 0 else round(b * 127 / 255)
            for i, b in enumerate(BACKGROUND)
        ),
    ),
    "I;16-mid-grey": (lambda: (Image.new("I;16", (100, 80), 32896), {}), (128, 128, 128)),
}


@pytest.mark.parametrize("case", sorted(MODE_CASES))
def test_png_modes_come_out_rgb_with_the_right_colour(case: str) -> None:
    make, expected = MODE_CASES[case]
    im, options = make()
    data = _png(im, **options)
    for derivative in run(data).derivatives:
        out = assert_clean(derivative)
        assert close_to(out.getpixel((50, 40)), expected, 6), (case, out.getpixel((50, 40)))


def test_rgba_half_transparent_reference_is_right() -> None:
    # The expected value above: red at alpha 128 over the background, by Pillow itself.
    background = Image.new("RGBA", (1, 1), (*BACKGROUND, 255))
    blended = Image.alpha_composite(background, Image.new("RGBA", (1, 1), (255, 0, 0, 128)))
    assert close_to(blended.getpixel((0, 0))[:3], MODE_CASES["RGBA-half"][1], 1)


def test_cmyk_jpeg_made_here_keeps_its_colours() -> None:
    im = Image.new("CMYK", (120, 90), (0, 200, 200, 30))  # a brick red
    data = encode(im, "JPEG", quality=95)
    reference = Image.new("CMYK", (1, 1), (0, 200, 200, 30)).convert("RGB").getpixel((0, 0))
    for derivative in run(data).derivatives:
        out = assert_clean(derivative)
        assert close_to(out.getpixel((60, 45)), reference, 8)


def test_greyscale_jpeg_comes_out_rgb() -> None:
    data = encode(Image.new("L", (90, 60), 70), "JPEG", quality=95)
    out = assert_clean(run(data).largest())
    assert close_to(out.getpixel((45, 30)), (70, 70, 70), 3)


# A minimal ICC v2 matrix/TRC profile, to test colour management without shipping one.
SRGB_D50 = {
    "r": (0.4361, 0.2225, 0.0139),
    "g": (0.3851, 0.7169, 0.0971),
    "b": (0.1431, 0.0606, 0.7141),
}


def icc_profile(description: str, red, green, blue, gamma: float = 2.2) -> bytes:
    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(values) -> bytes:
        return b"XYZ \0\0\0\0" + b"".join(s15(v) for v in values)

    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256))
    text = description.encode("ascii") + b"\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * (4 + 4 + 2 + 1 + 67)
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz((0.9642, 1.0, 0.8249))),
        (b"rXYZ", xyz(red)),
        (b"gXYZ", xyz(green)),
        (b"bXYZ", xyz(blue)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", b"text\0\0\0\0none\0"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, content in tags:
        content += b"\0" * (-len(content) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(content))
        body += content
    header = (
        struct.pack(">I", offset + len(body))
        + b"\0\0\0\0"
        + bytes([2, 0x10, 0, 0])
        + b"mntrRGB XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 28
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + b"\0" * 48
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


def test_icc_profile_is_applied_then_dropped() -> None:
    # A profile that says "the first channel is green, the second red": the pipeline
    # must honour it (the artisan's phone knows its colours better than we do).
    swapped = icc_profile("Swapped test RGB", SRGB_D50["g"], SRGB_D50["r"], SRGB_D50["b"])
    assert ImageCms.ImageCmsProfile(io.BytesIO(swapped)).profile.xcolor_space == "RGB "
    for fmt in ("JPEG", "PNG", "WEBP"):
        data = encode(Image.new("RGB", (80, 60), (220, 40, 40)), fmt, icc_profile=swapped)
        for derivative in run(data).derivatives:
            r, g, b = assert_clean(derivative).getpixel((40, 30))
            assert g > 180 and r < 90 and b < 90, (fmt, (r, g, b))


def test_srgb_profile_changes_nothing() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(Image.new("RGB", (80, 60), (220, 40, 40)), "PNG", icc_profile=srgb)
    out = assert_clean(run(data).largest())
    assert close_to(out.getpixel((40, 30)), (220, 40, 40), 5)


def test_srgb_like_profile_with_another_name_is_converted_the_same() -> None:
    srgbish = icc_profile("Camera RGB", SRGB_D50["r"], SRGB_D50["g"], SRGB_D50["b"])
    data = encode(Image.new("RGB", (80, 60), (220, 40, 40)), "PNG", icc_profile=srgbish)
    out = assert_clean(run(data).largest())
    assert close_to(out.getpixel((40, 30)), (220, 40, 40), 8)


def test_broken_icc_profile_is_ignored() -> None:
    data = encode(
        Image.new("RGB", (80, 60), (220, 40, 40)), "JPEG", icc_profile=b"not a profile" * 10
    )
    out = assert_clean(run(data).largest())
    assert close_to(out.getpixel((40, 30)), (220, 40, 40), 6)


def test_jpeg_comment_and_xmp_are_not_carried_over() -> None:
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    data = encode(_marked(), "JPEG", comment=b"Village of Nazlet", xmp=xmp, exif=_exif(1))
    with Image.open(io.BytesIO(data)) as im:
        assert im.info["comment"] == b"Village of Nazlet" and "xmp" in im.info
    for derivative in run(data).derivatives:
        assert_clean(derivative)
        assert b"Nazlet" not in derivative.data


def test_invalid_exif_keeps_the_pixels() -> None:
    data = fixture_bytes("invalid-exif.jpg")
    with Image.open(io.BytesIO(data)) as im:
        reference = im.convert("RGB")
    out = assert_clean(run(data).largest())
    assert mean_abs_diff(out, reference) < 6


def test_unreadable_exif_counts_as_no_orientation(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_getexif(self):
        raise SyntaxError("not a TIFF file")

    data = encode(_marked(), "JPEG", exif=_exif(6))
    monkeypatch.setattr(Image.Image, "getexif", broken_getexif)
    photo = run(data)
    assert (photo.width, photo.height) == (600, 400)  # as stored: orientation unknown


# ------------------------------------------------------------ sizes and the result


def test_small_photo_is_never_upscaled() -> None:
    photo = run(encode(_marked((500, 250)), "PNG"))
    assert [(d.kind, d.width, d.height) for d in photo.derivatives] == [
        ("webp", 320, 160),
        ("webp", 400, 200),
        ("webp", 500, 250),  # 640 and 960 collapse to the photo's own width
        ("jpeg", 500, 250),
    ]


def test_tiny_photo_gives_one_webp_and_one_jpeg() -> None:
    photo = run(encode(_marked((40, 30)), "PNG"))
    assert [(d.kind, d.width) for d in photo.derivatives] == [("webp", 40), ("jpeg", 40)]


def test_custom_widths_are_sorted_and_deduplicated() -> None:
    photo = run(encode(_marked((1000, 500)), "PNG"), widths=(800, 200, 800, 400), jpeg_width=600)
    assert [(d.kind, d.width, d.height) for d in photo.derivatives] == [
        ("webp", 200, 100),
        ("webp", 400, 200),
        ("webp", 800, 400),
        ("jpeg", 600, 300),
    ]


def test_jpeg_wider_than_every_webp_is_still_made() -> None:
    photo = run(encode(_marked((1000, 500)), "PNG"), widths=(300,), jpeg_width=900)
    assert [(d.kind, d.width) for d in photo.derivatives] == [("webp", 300), ("jpeg", 900)]
    assert (photo.width, photo.height) == (300, 150)


def test_extreme_aspect_ratio_keeps_at_least_one_pixel() -> None:
    photo = run(encode(Image.new("RGB", (5000, 3), "red"), "PNG"))
    assert all(d.height >= 1 for d in photo.derivatives)
    for derivative in photo.derivatives:
        assert_clean(derivative)


@pytest.mark.parametrize(
    "kwargs", [{"widths": ()}, {"widths": (0, 320)}, {"widths": (-5,)}, {"jpeg_width": 0}]
)
def test_bad_widths_are_a_programming_error(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        run(fixture_bytes("hopper.png"), **kwargs)


def test_srcset_and_largest(phone_photo: ProcessedPhoto) -> None:
    srcset = phone_photo.srcset(lambda key: f"/media/{key}")
    entries = srcset.split(", ")
    assert [entry.rsplit(" ", 1)[1] for entry in entries] == ["320w", "400w", "640w", "960w"]
    for entry, derivative in zip(
        entries, [d for d in phone_photo.derivatives if d.kind == "webp"], strict=True
    ):
        assert entry == f"/media/{derivative.key} {derivative.width}w"
    assert ".jpg" not in srcset
    assert phone_photo.largest().key.endswith("-960.webp")
    assert phone_photo.largest("jpeg").key.endswith("-1200.jpg")
    with pytest.raises(ValueError):
        phone_photo.largest("avif")


def test_keys_are_content_hashes_and_stable() -> None:
    data = fixture_bytes("flower.webp")
    first, second = run(data), run(data)
    assert [d.key for d in first.derivatives] == [d.key for d in second.derivatives]
    for derivative in first.derivatives:
        assert re.fullmatch(r"[0-9a-f]{20}-\d+\.(webp|jpg)", derivative.key)
    other = run(fixture_bytes("hopper.png"))
    assert not {d.key for d in first.derivatives} & {d.key for d in other.derivatives}


def test_derivative_repr_leaves_the_bytes_out(phone_photo: ProcessedPhoto) -> None:
    text = repr(phone_photo.largest())
    assert "bytes=" in text and "\\x" not in text and len(text) < 200


def test_outputs_are_reasonably_small(phone_photo: ProcessedPhoto) -> None:
    sizes = {(d.kind, d.width): len(d.data) for d in phone_photo.derivatives}
    webp = [sizes["webp", width] for width in WIDTHS]
    assert webp == sorted(webp) and webp[-1] < 300_000


def test_rejection_repr_and_reason() -> None:
    rejected = refusal(b"")
    assert "reason='empty'" in repr(rejected)
