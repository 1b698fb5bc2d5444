"""A local stand-in for the Gmail API v1: the endpoints a mailbox reader uses (watch, history,
messages list/get/attachments/modify, labels, profile), Pub/Sub notifications on new mail, and an
OAuth token endpoint that grants what domain-wide delegation would."""
