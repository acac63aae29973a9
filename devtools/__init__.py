"""Developer-only tools (never shipped in the wheel, never imported by the product)."""
