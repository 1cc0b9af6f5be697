"""Admin for the points engine (ledger read-only; corrections through points_adjust)."""
