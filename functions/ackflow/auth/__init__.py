"""Checking bearer tokens: Google ID tokens and Chat's own tokens, with cached certificates."""
