# The office workflow's own resources, only when asked for: a bucket for case folders and the
# worker's access to it and to the portal credentials. The case sheet is shared with the worker's
# service account by a person (Sheets has no IAM binding to make from here); so is the shared
# drive of case folders, when they live in Google Drive (output drive_member says whom to add).

resource "google_storage_bucket" "cases" {
  count = var.office.cases_bucket == "" ? 0 : 1

  name                        = var.office.cases_bucket
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  versioning {
    enabled = true # a person's edits are never lost to an overwrite
  }

  #checkov:skip=CKV_GCP_62:Access logs of the case bucket are left to the office's audit-log policy (Data Access logs), not per-bucket usage logs.
  depends_on = [google_project_service.apis]
}

resource "google_storage_bucket_iam_member" "worker_cases" {
  count = var.office.cases_bucket == "" ? 0 : 1

  bucket = google_storage_bucket.cases[0].name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.worker.email}"
}

resource "google_secret_manager_secret_iam_member" "worker_portal_credentials" {
  for_each = toset(var.office.portal_secrets)

  secret_id = each.value
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.worker.email}"
}

locals {
  office_environment = merge(
    var.office.cases_bucket == "" ? {} : {
      ACKFLOW_OFFICE_STORAGE    = "gcs"
      ACKFLOW_OFFICE_GCS_BUCKET = var.office.cases_bucket
    },
    var.office.drive_parent_folder == "" ? {} : {
      ACKFLOW_OFFICE_STORAGE             = "drive"
      ACKFLOW_OFFICE_DRIVE_PARENT_FOLDER = var.office.drive_parent_folder
    },
    var.office.drive_template_folder == "" ? {} : { ACKFLOW_OFFICE_DRIVE_TEMPLATE_FOLDER = var.office.drive_template_folder },
    var.office.sheet_id == "" ? {} : { ACKFLOW_OFFICE_SHEET_ID = var.office.sheet_id },
    var.office.name == "" ? {} : { ACKFLOW_OFFICE_NAME = var.office.name },
    var.office.portals == "" ? {} : { ACKFLOW_OFFICE_PORTALS = var.office.portals },
    length(var.office.portal_hosts) == 0 ? {} : { ACKFLOW_OFFICE_PORTAL_ALLOWED_HOSTS = join(",", var.office.portal_hosts) },
  )
}
