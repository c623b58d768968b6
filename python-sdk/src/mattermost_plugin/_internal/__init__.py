"""Internal machinery of the SDK; nothing here is public API."""
