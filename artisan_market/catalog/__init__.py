"""The catalogue: categories, listings (products) and their photos, and the listing rules.

Public pages (shop, search, product pages) come with the shop-window work; the artisan's
studio and the coordinators' review use these models and rules.
"""
