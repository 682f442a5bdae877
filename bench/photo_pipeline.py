"""Time the photo pipeline on 12-megapixel phone JPEGs against a plain full-size decode.

    make bench            (or: .venv/bin/python -m bench.photo_pipeline)
    BENCH_REPEAT=15 make bench

Two photos are made in memory, as a phone writes them: 4000x3000 JPEG at quality 92 with
an EXIF block (make, model, dates, GPS). The "portrait" one is stored sideways with EXIF
orientation 6, the "landscape" one upright (orientation 1). For each, in the same run and
interleaved (the order alternates every repetition), on one CPU:

pipeline
    ``artisan_market.media.pipeline.process_photo``: everything an upload costs, from the
    bytes to every encoded derivative (WebP 320/400/640/960 wide, JPEG 1200 wide).
naive
    what the pipeline replaces: ``Image.open``, ``load()`` at full size,
    ``ImageOps.exif_transpose``, ``convert("RGB")``, a resize of the full-size image to
    each width (same filter), and the very same encoders.

Peak memory is measured in fresh processes: peak RSS of a child that runs the pipeline
once, minus that of a child that only imports the same modules. Each child is started
by a tiny launcher that reads ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` after waiting for
it: started straight from this (large) process, a child would inherit this process's own
high-water mark, since Linux carries the pre-exec peak into ``ru_maxrss``.

Every figure is printed with its budget (docs/design.md) and PASS or MISS. This is a measurement,
not a test: a MISS still exits 0. An exception from the pipeline exits non-zero.
"""

from __future__ import annotations

import gc
import io
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps, features

from artisan_market.media import pipeline
from artisan_market.media.pipeline import process_photo

ROOT = Path(__file__).resolve().parent.parent

# docs/design.md, "Budgets": a 12-megapixel phone JPEG, all derivatives made.
BUDGET_SECONDS = 0.25
BUDGET_RATIO = 1.8
BUDGET_PEAK_MB = 150.0
# Wall time above CPU time by more than this means the CPU was shared while timing.
BUSY_FACTOR = 1.08

WEBP_WIDTHS = pipeline.WEBP_WIDTHS  # process_photo's defaults
JPEG_WIDTH = 1200
SENSOR = (4000, 3000)  # 12 MP, as the sensor stores it
QUALITY = 92
SEED = 20261129


# ---------------------------------------------------------------------- the photos


@dataclass(frozen=True)
class Photo:
    name: str
    orientation: int
    data: bytes

    @property
    def upright(self) -> tuple[int, int]:
        return (SENSOR[1], SENSOR[0]) if self.orientation in (5, 6, 7, 8) else SENSOR


def phone_exif(orientation: int) -> bytes:
    """The EXIF block of a phone camera: who made it, when, how, and where (GPS)."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 12"  # Model
    exif[0x0112] = orientation
    exif[0x0131] = "PhoneOS 14"  # Software
    exif[0x0132] = "2026:11:29 10:41:07"  # DateTime
    exif[0x8769] = {  # Exif IFD
        0x9003: "2026:11:29 10:41:07",  # DateTimeOriginal
        0x829A: 0.01,  # ExposureTime
        0x829D: 1.8,  # FNumber
        0x8827: 100,  # ISO
        0x920A: 4.7,  # FocalLength
    }
    exif[0x8825] = {  # GPS IFD: where she lives
        1: "N",
        2: (24.0, 5.0, 17.5),
        3: "E",
        4: (32.0, 53.0, 41.2),
        5: 0,
        6: 96.0,
    }
    return exif.tobytes()


def _noise(size: tuple[int, int], sigma: float, rng: random.Random) -> Image.Image:
    """Grey Gaussian noise around 128 (Pillow's effect_noise is seeded by libc rand;
    the offset crop keeps the two photos from sharing the same grain)."""
    pad = rng.randrange(0, 64)
    noise = Image.effect_noise((size[0] + pad, size[1] + pad), sigma)
    return noise.crop((pad, pad, pad + size[0], pad + size[1]))


def _smooth_field(size: tuple[int, int], rng: random.Random, cells: int, sigma: float):
    """Low-frequency variation: a few noise cells blown up with a smooth filter."""
    small = _noise((cells, max(2, cells * size[1] // size[0])), sigma, rng)
    return small.resize(size, Image.Resampling.BICUBIC)


def make_scene(rng: random.Random) -> Image.Image:
    """A 12 MP photo-like scene: lit backdrop, a woven basket and cloth, sharp edges,
    fine texture and sensor noise. Content matters: encoders take longer on detail."""
    w, h = SENSOR
    # Backdrop: smooth light falloff and tinted gradients, slightly out of focus.
    light = Image.radial_gradient("L").resize((w, h), Image.Resampling.BICUBIC)
    light = ImageOps.invert(light)
    ramp = Image.linear_gradient("L").rotate(rng.uniform(20, 70), expand=False)
    ramp = ramp.resize((w, h), Image.Resampling.BICUBIC)
    shared = _smooth_field((w, h), rng, 24, 50)  # shadows and folds of a backdrop cloth
    channels = []
    for base, weight in ((210, 0.55), (185, 0.5), (150, 0.45)):
        field = Image.blend(shared, _smooth_field((w, h), rng, 12, 30), 0.3)
        mixed = Image.blend(Image.blend(light, ramp, weight), field, 0.3)
        channels.append(mixed.point(lambda v, b=base: min(255, int(v * b / 200))))
    scene = Image.merge("RGB", channels).filter(ImageFilter.GaussianBlur(4))

    draw = ImageDraw.Draw(scene)
    # A table edge and cloth folds: long sharp edges and soft stripes.
    draw.polygon([(0, int(h * 0.72)), (w, int(h * 0.66)), (w, h), (0, h)], fill=(122, 84, 58))
    for i in range(40):
        y = int(h * 0.7) + i * 22
        colour = (130 + rng.randrange(40), 88 + rng.randrange(30), 60 + rng.randrange(20))
        draw.line((0, y, w, y - int(h * 0.06)), fill=colour, width=rng.randrange(3, 12))
    # The basket: concentric woven rings of short strokes in two dyes (much detail).
    cx, cy, rx, ry = w * 0.5, h * 0.55, w * 0.27, h * 0.3
    dyes = [(196, 150, 86), (176, 128, 70), (150, 40, 48), (40, 96, 120), (220, 190, 120)]
    for ring in range(60):
        t = ring / 60
        colour = dyes[(ring // 6) % len(dyes)]
        for k in range(180):
            a = 2 * math.pi * k / 180 + (ring % 2) * math.pi / 180
            x0, y0 = cx + rx * t * math.cos(a), cy + ry * t * math.sin(a)
            x1, y1 = (
                cx + rx * (t + 0.018) * math.cos(a + 0.02),
                cy + ry * (t + 0.018) * math.sin(a + 0.02),
            )
            shade = rng.randrange(-25, 25)
            draw.line(
                (x0, y0, x1, y1),
                fill=tuple(max(0, min(255, c + shade)) for c in colour),
                width=9,
            )
    draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), outline=(90, 60, 35), width=18)
    # Small objects with hard edges: beads and a folded scarf.
    for _ in range(60):
        x, y, r = rng.randrange(w), rng.randrange(int(h * 0.75), h), rng.randrange(10, 40)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=rng.choice(dyes), outline=(30, 20, 10))
    draw.polygon(
        [(w * 0.05, h * 0.2), (w * 0.2, h * 0.12), (w * 0.24, h * 0.5), (w * 0.08, h * 0.6)],
        fill=(160, 30, 60),
    )

    # Lens softness, then fabric-like grain and sensor noise (zero-mean, per channel).
    scene = scene.filter(ImageFilter.GaussianBlur(0.7))
    grain = _smooth_field((w, h), rng, 1000, 10)
    bands = []
    for band in scene.split():
        band = ImageChops.add(band, grain, scale=1.0, offset=-128)
        band = ImageChops.add(band, _noise((w, h), 3, rng), scale=1.0, offset=-128)
        bands.append(band)
    return Image.merge("RGB", bands)


def make_photos() -> list[Photo]:
    """The landscape photo (upright, orientation 1) and the portrait one (orientation 6:
    stored sideways, shown turned 90 degrees clockwise), as a phone writes them."""
    rng = random.Random(SEED)  # noqa: S311 (a reproducible picture, not a secret)
    photos = []
    for name, orientation in (("landscape", 1), ("portrait", 6)):
        buffer = io.BytesIO()
        make_scene(rng).save(
            buffer, "JPEG", quality=QUALITY, subsampling="4:2:0", exif=phone_exif(orientation)
        )
        photos.append(Photo(name, orientation, buffer.getvalue()))
    return photos


# ------------------------------------------------------------------ the two paths


def run_pipeline(data: bytes) -> list[tuple[str, int, int]]:
    photo = process_photo(io.BytesIO(data), widths=WEBP_WIDTHS, jpeg_width=JPEG_WIDTH)
    return [(d.kind, d.width, d.height) for d in photo.derivatives]


def run_naive(data: bytes) -> list[tuple[str, int, int]]:
    """Decode everything at full size, turn upright, resize to each width, same encoders."""
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        upright = ImageOps.exif_transpose(im).convert("RGB")
    made = []
    for kind, width in [("webp", w) for w in WEBP_WIDTHS] + [("jpeg", JPEG_WIDTH)]:
        size = (width, max(1, round(upright.height * width / upright.width)))
        derivative = pipeline._encode(upright.resize(size, pipeline.RESAMPLE), kind)
        made.append((derivative.kind, derivative.width, derivative.height))
    return made


PATHS: dict[str, Callable[[bytes], list[tuple[str, int, int]]]] = {
    "pipeline": run_pipeline,
    "naive": run_naive,
}


def pin_to_one_cpu() -> str:
    """Run (and let children run) on one CPU, as the budget says; say which."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity here)"
    cpu = max(os.sched_getaffinity(0))  # the last one: CPU 0 takes most interrupts
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


Timings = dict[tuple[str, str], list[float]]


def time_interleaved(photos: list[Photo], repeat: int) -> tuple[Timings, Timings]:
    """Wall-clock and CPU seconds per call for each (photo, path); one warm-up call each
    is not counted.

    Within a repetition the photos and paths take turns, and the order of the paths
    flips every repetition, so drift (heat, other load) hits both paths alike. CPU time
    is there to tell a slow pipeline from a busy machine: on an idle core they agree.
    """
    shapes = {}
    for photo in photos:
        for name, path in PATHS.items():
            shapes[photo.name, name] = path(photo.data)  # warm-up
        if shapes[photo.name, "pipeline"] != shapes[photo.name, "naive"]:
            raise SystemExit(
                f"{photo.name}: the two paths made different derivatives: "
                f"{shapes[photo.name, 'pipeline']} vs {shapes[photo.name, 'naive']}"
            )
    wall: Timings = {key: [] for key in shapes}
    cpu: Timings = {key: [] for key in shapes}
    for round_ in range(repeat):
        for photo in photos:
            order = list(PATHS) if round_ % 2 == 0 else list(reversed(PATHS))
            for name in order:
                gc.collect()
                start, start_cpu = time.perf_counter(), time.process_time()
                PATHS[name](photo.data)
                wall[photo.name, name].append(time.perf_counter() - start)
                cpu[photo.name, name].append(time.process_time() - start_cpu)
    return wall, cpu


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile (with 7 runs, the slowest one)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


# ------------------------------------------------------------------- peak memory

# Started from this process, waits for one child and prints that child's peak RSS (KiB
# on Linux). Being small, the launcher hands no high-water mark of its own to the child.
_LAUNCHER = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(code)
"""


def peak_rss_mb(mode: str, path: Path | None = None) -> float:
    """Peak RSS in MB of a fresh process that imports the modules and runs ``mode``."""
    child = [sys.executable, "-m", "bench.photo_pipeline", "--child", mode]
    if path is not None:
        child.append(str(path))
    result = subprocess.run(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-c", _LAUNCHER, *child],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"the {mode} child failed (exit {result.returncode}); see above")
    kib = int(result.stdout.strip().splitlines()[-1])
    return kib * 1024 / 1e6 if sys.platform != "darwin" else kib / 1e6


def child(mode: str, path: str | None) -> None:
    """In the measured process: the modules are imported (this module imports them);
    "baseline" stops there, the others read the upload and run their path once."""
    if mode == "baseline":
        return
    data = Path(path).read_bytes()
    PATHS[mode](data)


# ------------------------------------------------------------------------ report


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def line(label: str, figure: str, budget: str, ok: bool | None) -> str:
    mark = "" if ok is None else verdict(ok)
    return f"  {label:<22}{figure:<26}{budget:<18}{mark}".rstrip()


def versions() -> str:
    turbo = features.version_feature("libjpeg_turbo")
    jpeg = f"libjpeg-turbo {turbo}" if turbo else f"libjpeg {features.version('jpg')}"
    return (
        f"Python {platform.python_version()}, Pillow {Image.__version__}, "
        f"{jpeg}, libwebp {features.version('webp')}"
    )


def cpu_model() -> str:
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                return text.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> int:
    repeat = int(os.environ.get("BENCH_REPEAT", "7"))
    if repeat < 1:
        raise SystemExit("BENCH_REPEAT must be at least 1")
    pinned = pin_to_one_cpu()
    print("Photo pipeline bench (docs/design.md budget: a 12 MP phone JPEG, all derivatives)")
    print(f"  {versions()}")
    print(f"  {cpu_model()}, {pinned}, {repeat} repetitions, paths interleaved")
    print(
        f"  derivatives: WebP {'/'.join(map(str, WEBP_WIDTHS))} wide (q{pipeline.WEBP_QUALITY}, "
        f"method {pipeline.WEBP_METHOD}) + JPEG {JPEG_WIDTH} wide (q{pipeline.JPEG_QUALITY}, "
        f"optimize {pipeline.JPEG_OPTIMIZE}); "
        f"{pipeline.RESAMPLE.name.lower()} resampling"
    )
    photos = make_photos()
    times, cpu_times = time_interleaved(photos, repeat)

    with tempfile.TemporaryDirectory(prefix="bench-photo-") as tmp:
        baseline = peak_rss_mb("baseline")
        memory = {}
        for photo in photos:
            path = Path(tmp) / f"{photo.name}.jpg"
            path.write_bytes(photo.data)
            for name in PATHS:
                memory[photo.name, name] = peak_rss_mb(name, path) - baseline

    misses = 0
    for photo in photos:
        w, h = photo.upright
        print()
        print(
            f"{photo.name}: {SENSOR[0]}x{SENSOR[1]} stored, EXIF orientation {photo.orientation}"
            f" -> {w}x{h} upright; JPEG q{QUALITY}, {len(photo.data) / 1e6:.1f} MB, with GPS"
        )
        fast, slow = times[photo.name, "pipeline"], times[photo.name, "naive"]
        ratio = statistics.median(slow) / statistics.median(fast)
        checks = [
            (
                "pipeline median",
                f"{statistics.median(fast):.3f} s",
                f"<= {BUDGET_SECONDS} s",
                statistics.median(fast) <= BUDGET_SECONDS,
            ),
            (
                "pipeline p95",
                f"{p95(fast):.3f} s",
                f"<= {BUDGET_SECONDS} s",
                p95(fast) <= BUDGET_SECONDS,
            ),
            (
                "pipeline cpu median",
                f"{statistics.median(cpu_times[photo.name, 'pipeline']):.3f} s",
                "",
                None,
            ),
            ("naive median", f"{statistics.median(slow):.3f} s", "", None),
            ("naive p95", f"{p95(slow):.3f} s", "", None),
            (
                "naive / pipeline",
                f"{ratio:.2f}x (medians)",
                f">= {BUDGET_RATIO}x",
                ratio >= BUDGET_RATIO,
            ),
            (
                "pipeline peak memory",
                f"{memory[photo.name, 'pipeline']:.0f} MB "
                f"({memory[photo.name, 'pipeline'] + baseline:.0f} MB in all)",
                f"<= {BUDGET_PEAK_MB:.0f} MB",
                memory[photo.name, "pipeline"] <= BUDGET_PEAK_MB,
            ),
            ("naive peak memory", f"{memory[photo.name, 'naive']:.0f} MB", "", None),
        ]
        for label, figure, budget, ok in checks:
            print(line(label, figure, budget, ok))
            misses += ok is False
        busy = statistics.median(fast) / statistics.median(cpu_times[photo.name, "pipeline"])
        if busy > BUSY_FACTOR:
            print(
                f"  note: wall time is {busy:.2f}x the CPU time: something else ran on this "
                "CPU; rerun on an idle machine before reading the wall-clock lines"
            )
    print()
    print(
        f"peak memory is peak RSS above a process that only imports the modules ({baseline:.0f} MB)"
    )
    print(f"{misses} budget line(s) missed" if misses else "every budget line met")
    return 0  # a measurement, not a test: a MISS is reported, not failed


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    else:
        sys.exit(main())
