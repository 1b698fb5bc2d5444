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
    var.office.address == "" ? {} : { ACKFLOW_OFFICE_ADDRESS = var.office.address },
    var.office.contact == "" ? {} : { ACKFLOW_OFFICE_CONTACT = var.office.contact },
    var.office.registration_number == "" ? {} : { ACKFLOW_OFFICE_REGISTRATION_NUMBER = var.office.registration_number },
    var.office.bank_account == "" ? {} : { ACKFLOW_OFFICE_BANK_ACCOUNT = var.office.bank_account },
    {
      ACKFLOW_OFFICE_PAYMENT_TERMS = var.office.payment_terms
      ACKFLOW_OFFICE_HOLIDAYS      = var.office.holidays
      ACKFLOW_OFFICE_CLOSED_DAYS   = join(",", var.office.closed_days)
      ACKFLOW_OFFICE_ACCOUNTING    = var.office.accounting
    },
    var.office.accounting != "freee" ? {} : {
      ACKFLOW_OFFICE_FREEE_CLIENT_ID   = var.office.freee_client_id
      ACKFLOW_OFFICE_FREEE_COMPANY_ID  = tostring(var.office.freee_company_id)
      ACKFLOW_OFFICE_FREEE_TOKEN_VAULT = var.office.freee_token_vault
    },
  )
  # The freee token vault's secret (secret:projects/P/secrets/NAME), if the refresh token lives there.
  freee_vault_secret = startswith(var.office.freee_token_vault, "secret:") ? trimprefix(var.office.freee_token_vault, "secret:") : ""
}

# The freee app's client secret reaches the worker as a secret environment variable, never in the
# plain settings; the refresh token, if kept in Secret Manager, is read, replaced (a new version)
# and its used versions destroyed by the worker.
resource "google_secret_manager_secret_iam_member" "worker_freee_client_secret" {
  count = var.office.freee_client_secret == "" ? 0 : 1

  secret_id = var.office.freee_client_secret
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.worker.email}"
}

resource "google_secret_manager_secret_iam_member" "worker_freee_token_reader" {
  count = local.freee_vault_secret == "" ? 0 : 1

  secret_id = local.freee_vault_secret
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.worker.email}"
}

resource "google_secret_manager_secret_iam_member" "worker_freee_token_writer" {
  for_each = local.freee_vault_secret == "" ? toset([]) : toset(["roles/secretmanager.secretVersionAdder", "roles/secretmanager.secretVersionManager"])

  secret_id = local.freee_vault_secret
  role      = each.value
  member    = "serviceAccount:${google_service_account.worker.email}"
}

# Embedded estimates and invoices embed a TrueType font with Japanese glyphs. Cloud Functions has
# none and the font is not committed (.gitignore): scripts/vendor-font copies one
# into the source before `terraform apply`. A warning, not an error: a deployment may issue nothing.
check "estimate_font" {
  assert {
    condition = (var.office.accounting != "embedded" || contains(keys(var.extra_env), "ACKFLOW_OFFICE_ESTIMATE_FONT")
    || length(fileset("${path.module}/../../functions/workers/office/fonts", "*.ttf")) > 0)
    error_message = "No Japanese font in functions/workers/office/fonts: every estimate and invoice (office.accounting = \"embedded\") would fail. Run scripts/vendor-font, then terraform apply."
  }
}
