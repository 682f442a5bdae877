"""Pages of the ledger (filled below)."""
