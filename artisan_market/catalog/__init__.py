"""The catalogue: categories, listings (products) and their photos, the listing rules, and
the public shop window (shop, search, product and artisan pages, sitemap).

The blueprint's views are imported by `create_app`, not here: the models and rules are
used by the studio, the review pages and the command line without the public pages.
"""

from flask import Blueprint

bp = Blueprint("catalog", __name__)
