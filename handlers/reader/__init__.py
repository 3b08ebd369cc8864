"""handlers.reader."""
