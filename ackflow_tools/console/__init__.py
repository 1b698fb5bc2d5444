"""The Ackflow console: the operator's view in a browser, and (in dev) the bot in a browser chat.

Never deployed. It runs on an operator's machine, bound to 127.0.0.1, and reads and acts through
the same store, queue and core operations the chat commands and the CLI use (``ackflow.store``,
``ackflow.taskqueue``, ``ackflow.app.operations``); against the cloud it runs with the operator's
own Application Default Credentials, so the cloud's IAM decides what it may read and do.
"""
