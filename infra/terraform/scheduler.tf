# Every minute: re-send lost work (queued jobs whose task never got created, steps whose worker
# died) and start due periodic jobs. Authenticated as the invoker, like the queues' tasks.

resource "google_cloud_scheduler_job" "sweep" {
  name        = "${var.name_prefix}-sweep"
  region      = var.region
  description = "Ackflow sweep: re-send lost work, start periodic jobs."
  schedule    = var.sweep_schedule
  time_zone   = "Etc/UTC"

  attempt_deadline = "120s"

  retry_config {
    retry_count = 0 # the next minute's sweep is the retry
  }

  http_target {
    http_method = "POST"
    uri         = "${local.worker_url}/sweep"

    oidc_token {
      service_account_email = google_service_account.invoker.email
      audience              = local.worker_url
    }
  }

  depends_on = [google_project_service.apis]
}
