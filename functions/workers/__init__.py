"""The worker function's package: its entry point, the job types, the queue definitions."""
