"""Bar charts drawn on the server (pygal), inlined into the page as plain SVG.

Nothing of pygal's reaches the phone but shapes and words: its script (tooltips) and its
<style> are taken out (the site's CSP allows neither inline script nor inline style), and
the chart is styled by classes in static/css/app.css. pygal draws left to right only: on a
right-to-left page the shapes are mirrored here (bars grow from the right, names on the
right of them) and the texts placed again, written right to left.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence

import pygal
from markupsafe import Markup
from pygal.style import Style

# pygal puts a finder for its map plugins on sys.meta_path with the API Python 3.4 replaced
# (find_module): every later import that reaches it raises an ImportWarning. We draw no maps.
sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, pygal.PluginImportFixer)]

WIDTH = 400  # user units: a phone's width, so 16-unit text stays readable when scaled down
BAR = 40  # height of a bar and its gap
FONT = 18

_STYLE = Style(
    font_family="system-ui, sans-serif",
    label_font_size=FONT,
    major_label_font_size=FONT,
    value_font_size=FONT,
    tooltip_font_size=FONT,
    title_font_size=FONT,
)
# What pygal adds for its script, its tooltips and its own stylesheet.
_DROP = {"script", "style", "desc", "title"}


def bar_chart(
    title: str,
    bars: Sequence[tuple[str, int]],
    *,
    value_text: Callable[[float], str],
    rtl: bool,
) -> Markup:
    """Horizontal bars, one per (label, value), the first on top; values printed beside the
    bars in the page's digits. `title` is the chart's accessible name."""
    chart = pygal.HorizontalBar(
        style=_STYLE,
        js=[],
        css=[],
        disable_xml_declaration=True,
        explicit_size=False,
        show_legend=False,
        width=WIDTH,
        height=BAR * len(bars) + 2 * FONT + 24,
        margin=8,
        spacing=6,
        truncate_label=-1,  # never cut a governorate's or a programme's name
        print_values=True,
        formatter=value_text,
        # The values are printed beside the bars: no value axis, no guide lines.
        show_x_labels=False,
        show_x_guides=False,
        show_y_guides=False,
        no_prefix=True,
        classes=["chart"] + (["chart-rtl"] if rtl else []),
    )
    # pygal draws its first bar at the bottom: give it the list upside down.
    chart.x_labels = [label for label, _value in reversed(bars)]
    chart.add("", [value for _label, value in reversed(bars)])
    root = chart.render_tree()
    _clean(root)
    _values_after_bars(root)
    for text in root.iter("text"):  # names end at their x; values start at theirs
        text.set("text-anchor", "start" if text.get("class") == "value" else "end")
    root.set("direction", "rtl" if rtl else "ltr")
    if rtl:
        _mirror(root)
    root.attrib.pop("id", None)
    root.set("role", "img")
    root.set("aria-label", title)
    name = ET.Element("title")
    name.text = title
    root.insert(0, name)
    # ElementTree escapes every label and title it writes (names come from the database).
    svg = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    return Markup(svg)  # noqa: S704


def _clean(element: ET.Element) -> None:
    for child in list(element):
        if (
            not isinstance(child.tag, str)  # comments
            or child.tag in _DROP
            or "tooltip-overlay" in child.get("class", "")
        ):
            element.remove(child)
            continue
        child.attrib.pop("style", None)
        _clean(child)


def _values_after_bars(root: ET.Element) -> None:
    """Each printed value just past the end of its bar (pygal centres it on the end), the
    bars shortened if need be so that the longest value still fits in the plot."""
    plots = [g for g in root.iter("g") if "plot" in g.get("class", "").split()]
    background = plots[0].find("rect") if plots else None
    plot_width = float(background.get("width")) if background is not None else 0.0
    bars = [rect for rect in root.iter("rect") if "rect" in rect.get("class", "").split()]
    values = [text for text in root.iter("text") if text.get("class") == "value"]
    # A bold digit or letter is about 0.62 of the font's size wide; 8 units to spare.
    room = [(len(text.text or "") * FONT * 0.62) + 14 for text in values]
    scale = 1.0
    for rect, need in zip(bars, room, strict=False):
        x, w = float(rect.get("x", 0)), float(rect.get("width", 0))
        if w > 0 and x + w + need > plot_width:
            scale = min(scale, max(plot_width - need - x, 1.0) / w)
    for rect, text in zip(bars, values, strict=False):
        width = float(rect.get("width", 0)) * scale
        rect.set("width", f"{width:.1f}")
        text.set("x", f"{float(rect.get('x', 0)) + width + 6:.1f}")


def _mirror(root: ET.Element) -> None:
    """Right to left: each plot area moved to the other side, and every bar and text in it
    placed at its mirror image (x → plot width − x)."""
    width = float(root.get("viewBox", "0 0 0 0").split()[2])
    plots = [g for g in root.iter("g") if "plot" in g.get("class", "").split()]
    backgrounds = [rect for plot in plots for rect in plot.findall("rect")]
    plot_width = float(backgrounds[0].get("width")) if backgrounds else width
    for plot in plots:
        move = plot.get("transform", "translate(0, 0)")
        tx, ty = (float(n) for n in move[move.index("(") + 1 : -1].replace(",", " ").split())
        inner = plot.find("rect")
        plot.set("transform", f"translate({width - tx - plot_width:.1f}, {ty:.1f})")
        for element in plot.iter():
            if element.tag == "rect" and element is not inner:
                x, w = float(element.get("x", 0)), float(element.get("width", 0))
                element.set("x", f"{plot_width - x - w:.1f}")
            elif element.tag == "text":
                element.set("x", f"{plot_width - float(element.get('x', 0)):.1f}")
