"""The webhook every provider posts to: verified on its raw body, acted on once."""

from __future__ import annotations

from flask import abort, current_app, request

from artisan_market.payments import bp, services
from artisan_market.payments.providers import BadWebhook


@bp.post("/<name>/webhook")
def webhook(name: str):
    """200 once the event is recorded (acted on, or known already); 400 for anything that is
    not a signed event from the provider: nothing changes."""
    body = request.get_data(cache=False)
    try:
        outcome = services.receive_webhook(name, body, request.headers)
    except KeyError:
        abort(404)
    except BadWebhook as error:
        current_app.logger.warning("%s webhook refused: %s", name, error)
        return {"error": "bad webhook"}, 400
    return {"received": outcome}
