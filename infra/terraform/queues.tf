# One Cloud Tasks queue per queue definition. The definitions live in one file that the Python
# registry reads too, so the queues here and the retry policy the worker assumes cannot drift.

locals {
  queue_definitions = jsondecode(file("${path.module}/../../functions/workers/queues.json"))
  queues            = local.queue_definitions.queues
}

resource "google_cloud_tasks_queue" "queues" {
  for_each = local.queues

  name     = each.key
  location = var.region

  rate_limits {
    max_dispatches_per_second = each.value.rate_limits.max_dispatches_per_second
    max_concurrent_dispatches = each.value.rate_limits.max_concurrent_dispatches
  }

  retry_config {
    max_attempts       = each.value.retry_config.max_attempts
    min_backoff        = "${each.value.retry_config.min_backoff_seconds}s"
    max_backoff        = "${each.value.retry_config.max_backoff_seconds}s"
    max_doublings      = each.value.retry_config.max_doublings
    max_retry_duration = "${each.value.retry_config.max_retry_duration_seconds}s"
  }

  stackdriver_logging_config {
    sampling_ratio = 1.0
  }

  depends_on = [google_project_service.apis]
}
