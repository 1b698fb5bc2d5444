# One service account per function, and one whose OIDC token the queues and the scheduler
# attach when they call the worker. Least privilege: each grant says why it is needed.

resource "google_service_account" "webhook" {
  account_id   = "${var.name_prefix}-webhook"
  display_name = "Ackflow chat_webhook"
  description  = "Runs the chat_webhook function: reads and writes job state, enqueues tasks."

  depends_on = [google_project_service.apis] # made through the IAM API, off in a new project
}

resource "google_service_account" "worker" {
  account_id   = "${var.name_prefix}-worker"
  display_name = "Ackflow worker"
  description  = "Runs the worker function: job state, the next step's task, and Chat as the app."

  depends_on = [google_project_service.apis] # made through the IAM API, off in a new project
}

resource "google_service_account" "invoker" {
  account_id   = "${var.name_prefix}-invoker"
  display_name = "Ackflow invoker"
  description  = "Identity in the OIDC tokens Cloud Tasks and Cloud Scheduler send to the worker."

  depends_on = [google_project_service.apis] # made through the IAM API, off in a new project
}

# Cloud Build builds both functions' images from the source archive as this account
# (build_config.service_account). Without one, a project made since July 2024 builds as the Compute
# Engine default service account, which there has no role (or does not exist: the Compute Engine
# API is off), and the first apply fails at the build.
resource "google_service_account" "build" {
  account_id   = "${var.name_prefix}-build"
  display_name = "Ackflow build"
  description  = "Cloud Build builds the functions from the source archive as this account."

  depends_on = [google_project_service.apis]
}

# What Google's own build account has: the build logs, the images in Artifact Registry, the source.
resource "google_project_iam_member" "build" {
  #checkov:skip=CKV_GCP_49:The account only builds this module's functions; Google names this role as the fix for a new project's build account, and no person or function acts as it.
  project = var.project_id
  role    = "roles/cloudbuild.builds.builder"
  member  = "serviceAccount:${google_service_account.build.email}"
}

# Job state in Firestore, for both functions.
resource "google_project_iam_member" "firestore_users" {
  for_each = {
    webhook = google_service_account.webhook.email
    worker  = google_service_account.worker.email
  }

  project = var.project_id
  role    = "roles/datastore.user"
  member  = "serviceAccount:${each.value}"
}

# Enqueueing: the webhook sends a job's first step; the worker sends the next steps and the sweep's
# re-sends. Granted per queue, not on the project.
resource "google_cloud_tasks_queue_iam_member" "enqueuers" {
  for_each = {
    for pair in setproduct(keys(local.queues), ["webhook", "worker"]) : "${pair[0]}/${pair[1]}" => {
      queue = pair[0]
      email = pair[1] == "webhook" ? google_service_account.webhook.email : google_service_account.worker.email
    }
  }

  project  = var.project_id
  location = var.region
  name     = google_cloud_tasks_queue.queues[each.value.queue].name
  role     = "roles/cloudtasks.enqueuer"
  member   = "serviceAccount:${each.value.email}"
}

# Creating a task with an OIDC token for the invoker requires acting as the invoker.
resource "google_service_account_iam_member" "act_as_invoker" {
  for_each = {
    webhook = google_service_account.webhook.email
    worker  = google_service_account.worker.email
  }

  service_account_id = google_service_account.invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${each.value}"
}

# The invoker may call the worker, and nothing else.
resource "google_cloud_run_v2_service_iam_member" "worker_invoker" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.worker.service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.invoker.email}"
}

# Google Chat must reach the webhook without Google credentials; the webhook verifies Chat's
# bearer token itself (issuer, audience, signer, expiry, signature) and answers 401 otherwise.
resource "google_cloud_run_v2_service_iam_member" "webhook_public" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.webhook.service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# Optional, for job types that need more (e.g. Secret Manager for portal credentials).
resource "google_project_iam_member" "worker_extra" {
  for_each = toset(var.worker_roles)

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.worker.email}"
}
