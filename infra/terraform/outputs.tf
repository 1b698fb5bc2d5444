output "webhook_url" {
  description = "Paste this into the Chat API configuration (Connection settings → HTTP endpoint URL)."
  value       = local.webhook_url
}

output "worker_url" {
  description = "The worker function's URL (called by Cloud Tasks and Cloud Scheduler only)."
  value       = local.worker_url
}

output "chat_authentication_audience" {
  description = "What to choose as the Authentication Audience in the Chat API configuration, and its value."
  value       = var.chat_auth == "project-number" ? "Project Number (${data.google_project.this.number})" : "HTTP endpoint URL (${local.webhook_url})"
}

output "service_accounts" {
  description = "Service account emails: webhook, worker, and the invoker whose OIDC token calls the worker."
  value = {
    webhook = google_service_account.webhook.email
    worker  = google_service_account.worker.email
    invoker = google_service_account.invoker.email
  }
}

output "queues" {
  description = "Full names of the Cloud Tasks queues, one per queue definition."
  value       = { for key, queue in google_cloud_tasks_queue.queues : key => queue.id }
}

output "drive_member" {
  description = "Add this service account to the shared drive of case folders as a Content manager (when office.drive_parent_folder is set)."
  value       = var.office.drive_parent_folder == "" ? null : google_service_account.worker.email
}

output "gmail_delegation" {
  description = "For the Admin console (Security → API controls → Domain-wide delegation): the worker's client ID and the one scope to grant (when mail.mailbox is set)."
  value = var.mail.mailbox == "" ? null : {
    client_id = google_service_account.worker.unique_id
    scopes    = "https://www.googleapis.com/auth/gmail.modify"
    mailbox   = var.mail.mailbox
  }
}

output "operator_env" {
  description = "The functions' own settings as shell lines, for the operator commands on a laptop (ackflow console --project, retry, sweep): eval \"$(terraform output -raw operator_env)\". docs/deploy.md, Operating from a laptop."
  value       = join("\n", [for name, value in merge(local.environment, { ACKFLOW_LOG_FORMAT = "text" }) : "export ${name}='${replace(value, "'", "'\\''")}'"])
}
