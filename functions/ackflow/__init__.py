"""Ackflow: ChatOps on serverless task queues.

The core (jobs, commands, cards, the worker's logic) knows no cloud; adapters for Firestore,
Cloud Tasks, SQS and the Chat API live at the edge and import their SDKs lazily.
"""

__version__ = "0.1.0"
