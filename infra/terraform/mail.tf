# Requests by mail (only when mail.mailbox is set): Gmail's watch publishes to a topic, a push
# subscription delivers to the worker's /mail with an OIDC token for the invoker (the worker
# verifies it as it verifies tasks), and what cannot be delivered lands in a dead-letter topic.
# Gmail publishes as gmail-api-push@system.gserviceaccount.com, which needs publish rights on the
# topic. The worker reads the mailbox by domain-wide delegation, signing its grant through the IAM
# Credentials API with its own account (no key): the admin-console step is in docs/deploy.md.

locals {
  mail_enabled = var.mail.mailbox != ""
  mail_push    = local.mail_enabled && var.mail.push
  pubsub_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  mail_environment = local.mail_enabled ? merge({
    ACKFLOW_OFFICE_MAILBOX               = var.mail.mailbox
    ACKFLOW_OFFICE_GMAIL_SERVICE_ACCOUNT = google_service_account.worker.email
    }, var.mail.space == "" ? {} : { ACKFLOW_OFFICE_MAIL_SPACE = var.mail.space },
    local.mail_push ? { ACKFLOW_OFFICE_GMAIL_TOPIC = google_pubsub_topic.gmail[0].id } : {},
  ) : {}
}

resource "google_pubsub_topic" "gmail" {
  count = local.mail_push ? 1 : 0

  name                       = "${var.name_prefix}-gmail"
  message_retention_duration = "86400s"

  #checkov:skip=CKV_GCP_83:Gmail notifications carry only a mailbox address and a history id; Google-managed encryption suffices.
  depends_on = [google_project_service.apis]
}

resource "google_pubsub_topic" "gmail_dead" {
  count = local.mail_push ? 1 : 0

  name                       = "${var.name_prefix}-gmail-dead"
  message_retention_duration = "604800s"

  #checkov:skip=CKV_GCP_83:Undeliverable Gmail notifications carry only a mailbox address and a history id; Google-managed encryption suffices.
  depends_on = [google_project_service.apis]
}

# Gmail's push service publishes the notifications.
resource "google_pubsub_topic_iam_member" "gmail_publisher" {
  count = local.mail_push ? 1 : 0

  topic  = google_pubsub_topic.gmail[0].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:gmail-api-push@system.gserviceaccount.com"
}

resource "google_pubsub_subscription" "gmail_push" {
  count = local.mail_push ? 1 : 0

  name                       = "${var.name_prefix}-gmail-push"
  topic                      = google_pubsub_topic.gmail[0].id
  ack_deadline_seconds       = 120
  message_retention_duration = "86400s"

  push_config {
    push_endpoint = "${local.worker_url}/mail"
    oidc_token {
      service_account_email = google_service_account.invoker.email
      audience              = local.worker_url
    }
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.gmail_dead[0].id
    max_delivery_attempts = 10
  }

  expiration_policy {
    ttl = "" # never expires for lack of traffic (a quiet mailbox)
  }
}

# Where a person reads what could not be delivered (gcloud pubsub subscriptions pull).
resource "google_pubsub_subscription" "gmail_dead" {
  count = local.mail_push ? 1 : 0

  name                       = "${var.name_prefix}-gmail-dead"
  topic                      = google_pubsub_topic.gmail_dead[0].id
  message_retention_duration = "604800s"

  expiration_policy {
    ttl = ""
  }
}

# Pub/Sub's service agent mints the push's OIDC token for the invoker, and moves undeliverable
# messages to the dead-letter topic.
resource "google_service_account_iam_member" "pubsub_mints_invoker_tokens" {
  count = local.mail_push ? 1 : 0

  service_account_id = google_service_account.invoker.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent
}

resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  count = local.mail_push ? 1 : 0

  topic  = google_pubsub_topic.gmail_dead[0].name
  role   = "roles/pubsub.publisher"
  member = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  count = local.mail_push ? 1 : 0

  subscription = google_pubsub_subscription.gmail_push[0].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}

# Keyless domain-wide delegation: the worker signs its own delegated grant (signJwt).
resource "google_service_account_iam_member" "worker_signs_its_grant" {
  count = local.mail_enabled ? 1 : 0

  service_account_id = google_service_account.worker.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${google_service_account.worker.email}"
}
