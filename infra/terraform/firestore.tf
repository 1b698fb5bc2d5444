# Job state: a Firestore database in native mode, the composite indexes the job store's queries
# need (declared once, in functions/ackflow/store/indexes.json), and a TTL policy on expire_at.

locals {
  store_indexes     = jsondecode(file("${path.module}/../../functions/ackflow/store/indexes.json"))
  collection_prefix = "ackflow_"
  composite_indexes = flatten([
    for collection, indexes in local.store_indexes.collections : [
      for number, index in indexes : {
        key        = "${collection}-${number}"
        collection = "${local.collection_prefix}${collection}"
        fields     = index.fields
      } if try(index.only, "firestore") == "firestore" # "only": "sqlite" ones are not Firestore's
    ]
  ])
}

resource "google_firestore_database" "jobs" {
  name                              = "(default)"
  location_id                       = var.firestore_location
  type                              = "FIRESTORE_NATIVE"
  concurrency_mode                  = "OPTIMISTIC"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = var.deletion_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  deletion_policy                   = var.deletion_protection ? "ABANDON" : "DELETE"

  depends_on = [google_project_service.apis]
}

resource "google_firestore_index" "jobs" {
  for_each = { for index in local.composite_indexes : index.key => index }

  database   = google_firestore_database.jobs.name
  collection = each.value.collection

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path = fields.value[0]
      order      = fields.value[1]
    }
  }
}

resource "google_firestore_field" "job_ttl" {
  database   = google_firestore_database.jobs.name
  collection = "${local.collection_prefix}jobs"
  field      = local.store_indexes.ttl_field

  ttl_config {}

  # keep the default single-field indexes
  index_config {}
}

# The write log of each job's Chat message (ackflow.store.documents.MESSAGE_LOGS): refreshed on
# every write, deleted a job TTL after the last one.
resource "google_firestore_field" "message_log_ttl" {
  database   = google_firestore_database.jobs.name
  collection = "${local.collection_prefix}job_messages"
  field      = local.store_indexes.ttl_field

  ttl_config {}

  index_config {}
}

# Jobs made uncancellable by a step before its step was recorded (ackflow.store.documents.HOLDS,
# e.g. an invoice decided): a hold is needed only while its job lives; deleted 400 days after.
resource "google_firestore_field" "job_hold_ttl" {
  database   = google_firestore_database.jobs.name
  collection = "${local.collection_prefix}job_holds"
  field      = local.store_indexes.ttl_field

  ttl_config {}

  index_config {}
}

# The confirmation cards' records (ackflow.store.documents.CONFIRMATIONS): one per "run this?"
# card; kept 400 days after the card expired, past its job's own TTL
# (ackflow.store.jobstore.CONFIRMATION_TTL), then deleted.
resource "google_firestore_field" "confirmation_ttl" {
  database   = google_firestore_database.jobs.name
  collection = "${local.collection_prefix}confirmations"
  field      = local.store_indexes.ttl_field

  ttl_config {}

  index_config {}
}
