"""Ackflow for developers and operators: the ``ackflow`` CLI, the local services that speak
Google's REST APIs (Cloud Tasks, Chat, Sheets), and the dev supervisor. Not deployed: the
Cloud Functions archive is ``functions/`` alone."""
