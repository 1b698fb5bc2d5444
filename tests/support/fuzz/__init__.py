"""The fuzz suite: hostile events, tasks and tokens (seeded), and the runner that checks the answers."""
