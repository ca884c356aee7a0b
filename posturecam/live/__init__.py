"""The live monitor and the small parts it composes (control, session log, nudges, preview)."""
