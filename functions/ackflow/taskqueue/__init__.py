"""The TaskQueue port and its adapters (Cloud Tasks; SQS with a relay)."""
