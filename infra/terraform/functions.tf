# Both functions (2nd gen) are built from one archive of functions/: main.py holds both entry
# points, requirements.txt their dependencies, and the ackflow package sits beside them.

locals {
  webhook_name = "${var.name_prefix}-chat-webhook"
  worker_name  = "${var.name_prefix}-worker"
  # The cloudfunctions.net URLs are known before the functions exist, which breaks the cycle of
  # each function needing the other's URL in its settings.
  webhook_url = "https://${var.region}-${var.project_id}.cloudfunctions.net/${local.webhook_name}"
  worker_url  = "https://${var.region}-${var.project_id}.cloudfunctions.net/${local.worker_name}"

  environment = merge({
    ACKFLOW_PROJECT                 = var.project_id
    ACKFLOW_PROJECT_NUMBER          = data.google_project.this.number
    ACKFLOW_LOCATION                = var.region
    ACKFLOW_WEBHOOK_URL             = local.webhook_url
    ACKFLOW_WORKER_URL              = local.worker_url
    ACKFLOW_STORE                   = "firestore"
    ACKFLOW_FIRESTORE_PREFIX        = local.collection_prefix
    ACKFLOW_JOB_TTL_DAYS            = tostring(var.job_ttl_days)
    ACKFLOW_QUEUE_BACKEND           = "cloudtasks"
    ACKFLOW_INVOKER_SERVICE_ACCOUNT = google_service_account.invoker.email
    ACKFLOW_CHAT_AUTH               = var.chat_auth
    ACKFLOW_ALLOW_USERS             = join(",", var.access.allow_users)
    ACKFLOW_ALLOW_DOMAINS           = join(",", var.access.allow_domains)
    ACKFLOW_ALLOW_SPACES            = join(",", var.access.allow_spaces)
    ACKFLOW_ADMINS                  = join(",", var.access.admins)
    ACKFLOW_ACCESS_CONTACT          = var.access.contact
    ACKFLOW_COMMAND_ACCESS          = jsonencode(var.access.command_access)
    ACKFLOW_PERIODIC_SPACE          = var.periodic_space
    ACKFLOW_LANGUAGE                = var.language
    ACKFLOW_TIME_ZONE               = var.time_zone
    ACKFLOW_OFFICE_TIMEZONE         = var.time_zone
    ACKFLOW_OFFICE_MAIL_LANGUAGE    = var.language
    ACKFLOW_LOG_FORMAT              = "json"
    ACKFLOW_LOG_LEVEL               = var.log_level
    ACKFLOW_DEV_JOB_TYPES           = tostring(var.dev_job_types)
  }, local.office_environment, local.mail_environment, var.extra_env)
}

resource "google_storage_bucket" "source" {
  name                        = "${var.project_id}-${var.name_prefix}-source"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      num_newer_versions = 5
    }
    action {
      type = "Delete"
    }
  }

  #checkov:skip=CKV_GCP_62:The bucket holds only build inputs (the source archive); Cloud Build and Cloud Audit Logs already record who deployed what.
  depends_on = [google_project_service.apis]
}

data "archive_file" "source" {
  type        = "zip"
  source_dir  = "${path.module}/../../functions"
  output_path = "${path.module}/.build/functions.zip"
  # the translation sources stay behind: only the compiled catalogs (.mo) are read at run time; so
  # does whatever a developer's machine leaves in functions/ (this zips the working tree of whoever
  # applies): settings and keys, local databases, virtualenvs, egg-info, tool caches
  excludes = [
    "**/__pycache__/**", "**/*.pyc", "**/.pytest_cache/**", "**/.mypy_cache/**", "**/.ruff_cache/**",
    "**/*.po", "**/*.pot",
    "**/.env*", "**/*.pem", "**/*.key", "**/*.p12",
    "**/*.db", "**/*.sqlite", "**/*.sqlite3", "**/*-journal", "**/*-wal",
    "**/.venv/**", "**/*.egg-info/**", "**/.DS_Store", "**/.ackflow/**",
  ]
}

resource "google_storage_bucket_object" "source" {
  name   = "functions-${data.archive_file.source.output_md5}.zip"
  bucket = google_storage_bucket.source.name
  source = data.archive_file.source.output_path
}

resource "google_cloudfunctions2_function" "webhook" {
  #checkov:skip=CKV_GCP_124:Google Chat calls the webhook from outside the project, so ingress must allow all; every request must carry a Chat token that the webhook verifies, else 401.
  name        = local.webhook_name
  location    = var.region
  description = "Google Chat events: verify, answer at once, confirm, enqueue."

  build_config {
    runtime         = "python311"
    entry_point     = "chat_webhook"
    service_account = google_service_account.build.id
    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    min_instance_count               = var.webhook.min_instances
    max_instance_count               = var.webhook.max_instances
    available_memory                 = var.webhook.memory
    timeout_seconds                  = var.webhook.timeout
    max_instance_request_concurrency = 16
    available_cpu                    = "1"
    service_account_email            = google_service_account.webhook.email
    ingress_settings                 = "ALLOW_ALL"
    all_traffic_on_latest_revision   = true
    environment_variables            = local.environment
  }

  depends_on = [google_project_service.apis, google_project_iam_member.build]
}

resource "google_cloudfunctions2_function" "worker" {
  name        = local.worker_name
  location    = var.region
  description = "Runs job steps for Cloud Tasks; the sweep for Cloud Scheduler. Not public."

  build_config {
    runtime         = "python311"
    entry_point     = "worker"
    service_account = google_service_account.build.id
    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    min_instance_count               = var.worker.min_instances
    max_instance_count               = var.worker.max_instances
    available_memory                 = var.worker.memory
    timeout_seconds                  = var.worker.timeout
    max_instance_request_concurrency = 8
    available_cpu                    = "1"
    service_account_email            = google_service_account.worker.email
    # Cloud Tasks and Cloud Scheduler of the same project count as internal traffic.
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    environment_variables          = local.environment

    dynamic "secret_environment_variables" {
      for_each = var.office.freee_client_secret == "" ? [] : [var.office.freee_client_secret]
      content {
        key        = "ACKFLOW_OFFICE_FREEE_CLIENT_SECRET"
        project_id = var.project_id
        secret     = secret_environment_variables.value
        version    = "latest"
      }
    }
  }

  depends_on = [google_project_service.apis, google_project_iam_member.build, google_secret_manager_secret_iam_member.worker_freee_client_secret]
}

# Cloud Functions ends a request at the function's timeout: a step its queue allows longer would
# be cut on every attempt, and fail for good once the attempts are spent.
check "worker_timeout" {
  assert {
    condition     = var.worker.timeout >= max([for queue in values(local.queues) : queue.max_step_timeout_seconds]...)
    error_message = "worker.timeout is shorter than the longest step a queue allows (max_step_timeout_seconds in functions/workers/queues.json): raise worker.timeout, or shorten that queue's steps."
  }
}
