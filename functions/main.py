"""Entry points of the deployed source: one archive of functions/ serves both functions.

Deploy with entry point ``chat_webhook`` or ``worker``; locally:
    functions-framework --source functions/main.py --target chat_webhook
"""

from chat_webhook.main import chat_webhook  # noqa: F401
from workers.main import worker  # noqa: F401
