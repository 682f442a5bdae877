"""The WSGI entry point: `gunicorn wsgi:app`, and `flask` finds it through FLASK_APP."""

from artisan_market import create_app

app = create_app()
