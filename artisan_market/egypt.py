"""Egypt's 27 governorates and the crafts of the coalition's members, with their names.

Codes are ISO 3166-2:EG without the country prefix; they are what the database stores.
Names are lazy strings: they are shown in the language of the page.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

GOVERNORATES: dict[str, str] = {
    "C": _l("Cairo"),
    "GZ": _l("Giza"),
    "ALX": _l("Alexandria"),
    "KB": _l("Qalyubia"),
    "DK": _l("Dakahlia"),
    "SHR": _l("Sharqia"),
    "GH": _l("Gharbia"),
    "MNF": _l("Monufia"),
    "BH": _l("Beheira"),
    "KFS": _l("Kafr El Sheikh"),
    "DT": _l("Damietta"),
    "PTS": _l("Port Said"),
    "IS": _l("Ismailia"),
    "SUZ": _l("Suez"),
    "SIN": _l("North Sinai"),
    "JS": _l("South Sinai"),
    "FYM": _l("Faiyum"),
    "BNS": _l("Beni Suef"),
    "MN": _l("Minya"),
    "AST": _l("Asyut"),
    "SHG": _l("Sohag"),
    "KN": _l("Qena"),
    "LX": _l("Luxor"),
    "ASN": _l("Aswan"),
    "BA": _l("Red Sea"),
    "WAD": _l("New Valley"),
    "MT": _l("Matrouh"),
}

CRAFTS: dict[str, str] = {
    "pottery": _l("Pottery"),
    "embroidery": _l("Embroidery"),
    "textiles": _l("Kilim and textiles"),
    "basketry": _l("Palm and reed basketry"),
    "jewellery": _l("Jewellery"),
    "leather": _l("Leather"),
    "wood": _l("Wood"),
    "glass": _l("Glass"),
    "other": _l("Other crafts"),
}


def governorate_name(code: str | None) -> str:
    return str(GOVERNORATES.get(code or "", code or ""))


def craft_name(code: str | None) -> str:
    return str(CRAFTS.get(code or "", code or ""))
