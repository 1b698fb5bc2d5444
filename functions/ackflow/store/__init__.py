"""The job store: one JobStore holding the logic, over a small Documents port per backend."""
