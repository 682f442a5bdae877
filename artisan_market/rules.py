"""What every domain's rules raise when they say no."""

from __future__ import annotations


class RuleError(Exception):
    """A rule refused. `message` is for the person at the form (a translatable string);
    `field` names the form field it belongs to, if any (see `forms.show_rule_error`)."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
