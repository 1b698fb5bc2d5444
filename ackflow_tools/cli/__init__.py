"""The ``ackflow`` command line."""
