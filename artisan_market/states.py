"""One small helper for everything that moves through states: listings now; orders, payments
and disbursements next.

Each kind of thing declares its table of moves once: from which states, to which, and who may
make each. A move asked for twice (a double tap, a webhook sent again) finds the thing already
where the move leads: that is a quiet no-op, not an error. A move the table does not allow
from where the thing is, or not to this person, is a clear refusal.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from artisan_market.rules import RuleError

# Who makes a move that no person makes (a webhook, a timer, a stock count reaching zero).
SYSTEM = "system"


class MoveRefused(RuleError):
    """The move is not possible from where the thing is now, or not for this person."""


@dataclass(frozen=True)
class Move:
    """`name` takes the thing from any of `sources` to `target` (None: it is gone).

    `by` names who may make it (role values, or SYSTEM). `done_in` are the states in which the
    move counts as made already; asking for it there changes nothing.
    """

    name: str
    sources: frozenset[enum.Enum]
    target: enum.Enum | None
    by: frozenset[str]
    done_in: frozenset[enum.Enum] = frozenset()


class StateMachine:
    """A table of moves, and the one way to ask whether a move may be made."""

    def __init__(self, moves: Iterable[Move]):
        self.moves = {move.name: move for move in moves}

    def allowed(self, state: enum.Enum, actor: str) -> list[str]:
        """The moves `actor` may make from `state`, in the table's order."""
        return [
            move.name for move in self.moves.values() if state in move.sources and actor in move.by
        ]

    def check(self, state: enum.Enum, name: str, actor: str) -> Move | None:
        """The move to make; None when it is made already (a repeat: do nothing).

        Refuses (MoveRefused) a move this table does not allow from `state`, or not to `actor`.
        Raises KeyError for a move that is not in the table: that is a bug, not a refusal.
        """
        move = self.moves[name]
        if actor not in move.by:
            raise MoveRefused(_l("This is not yours to do."))
        if state in move.sources:
            return move
        if state in move.done_in:
            return None
        raise MoveRefused(_l("This cannot be done now. Reload the page to see where it stands."))
