variable "project_id" {
  type        = string
  description = "The Google Cloud project that hosts Ackflow."
}

variable "region" {
  type        = string
  description = "Region of the functions, the queues and the scheduler job (e.g. asia-northeast1)."
  default     = "asia-northeast1"
}

variable "firestore_location" {
  type        = string
  description = "Location of the Firestore database (a region such as asia-northeast1, or a multi-region such as nam5)."
  default     = "asia-northeast1"
}

variable "name_prefix" {
  type        = string
  description = "Prefix of the names of the functions, service accounts and bucket."
  default     = "ackflow"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,18}$", var.name_prefix))
    error_message = "Use 2 to 19 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "chat_auth" {
  type        = string
  description = "Authentication audience chosen in the Chat API configuration: project-number (classic HTTP apps) or endpoint-url (required for Workspace add-on apps)."
  default     = "project-number"

  validation {
    condition     = contains(["project-number", "endpoint-url"], var.chat_auth)
    error_message = "chat_auth must be project-number or endpoint-url."
  }
}

variable "webhook" {
  type = object({
    min_instances = optional(number, 1)
    max_instances = optional(number, 10)
    memory        = optional(string, "512Mi")
    timeout       = optional(number, 30)
  })
  description = "Sizing of the chat_webhook function. Keep min_instances at 1 or more so a cold start never meets a Chat event."
  default     = {}

  validation {
    condition     = var.webhook.timeout <= 30
    error_message = "Google Chat waits 30 seconds for an answer; a longer webhook timeout is pointless."
  }
}

variable "worker" {
  type = object({
    min_instances = optional(number, 0)
    max_instances = optional(number, 20)
    memory        = optional(string, "1Gi")
    timeout       = optional(number, 1800)
  })
  description = "Sizing of the worker function. Its timeout must cover the longest step (the queues' max_step_timeout_seconds)."
  default     = {}

  validation {
    condition     = var.worker.timeout >= 60 && var.worker.timeout <= 3600
    error_message = "The worker timeout must be between 60 and 3600 seconds."
  }
}

variable "access" {
  type = object({
    allow_users    = optional(list(string), [])
    allow_domains  = optional(list(string), [])
    allow_spaces   = optional(list(string), [])
    admins         = optional(list(string), [])
    contact        = optional(string, "")
    command_access = optional(map(map(list(string))), {})
  })
  description = "Who may use the bot: default allow-lists by email, domain and space, per-command allow-lists, admins, and who to ask for access."
  default     = {}
}

variable "periodic_space" {
  type        = string
  description = "Chat space (spaces/...) where periodic jobs report; empty for none."
  default     = ""
}

variable "language" {
  type        = string
  description = "Language of a person whose Chat event says none and who is not known yet, of periodic jobs and of mail cards: ja or en (the office: ja)."
  default     = "ja"

  validation {
    condition     = contains(["ja", "en"], var.language)
    error_message = "language must be ja or en (the catalogs shipped)."
  }
}

variable "time_zone" {
  type        = string
  description = "IANA time zone of a person whose event says none and who is not known yet; cron schedules of periodic jobs and the office's dates are read in it (the office: Asia/Tokyo)."
  default     = "Asia/Tokyo"

  validation {
    condition     = can(regex("^(UTC|[A-Za-z]+(/[A-Za-z0-9_+-]+){1,2})$", var.time_zone))
    error_message = "time_zone must be an IANA time zone such as Asia/Tokyo or UTC."
  }
}

variable "sweep_schedule" {
  type        = string
  description = "Cron schedule of the sweep that re-sends lost work and starts periodic jobs."
  default     = "* * * * *"
}

variable "job_ttl_days" {
  type        = number
  description = "Days a finished job is kept before Firestore's TTL policy deletes it."
  default     = 30
}

variable "dev_job_types" {
  type        = bool
  description = "Offer the job types for trying the pipeline (echo, sleep, fail) beside the office's; off, so that the office's help lists only its own commands."
  default     = false
}

variable "log_level" {
  type        = string
  description = "Lowest level the functions log."
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "extra_env" {
  type        = map(string)
  description = "More ACKFLOW_* settings for both functions (office workflow: sheet id, storage bucket, portal hosts). Plain values, visible in the console and the state: never a secret."
  default     = {}

  # The settings the code holds as secrets (SecretStr); tests/infra/test_terraform_gcp.py keeps the list complete.
  validation {
    condition     = length(setintersection(keys(var.extra_env), ["ACKFLOW_OFFICE_FREEE_CLIENT_SECRET", "ACKFLOW_OFFICE_PORTAL_PASSWORD", "ACKFLOW_RELAY_SIGNING_KEY"])) == 0
    error_message = "extra_env is plain text: keep secrets in Secret Manager (the freee client secret: office.freee_client_secret; portal passwords: secret: credentials in office.portals, readable through office.portal_secrets)."
  }
}

variable "worker_roles" {
  type        = list(string)
  description = "Extra project roles for the worker's service account, for job types that need them (none by default)."
  default     = []

  validation {
    condition     = alltrue([for role in var.worker_roles : !contains(["roles/owner", "roles/editor", "roles/viewer"], role)])
    error_message = "Grant narrow roles, never roles/owner, roles/editor or roles/viewer."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "Protect the Firestore database from terraform destroy."
  default     = true
}

variable "office" {
  type = object({
    cases_bucket          = optional(string, "")
    drive_parent_folder   = optional(string, "")
    drive_template_folder = optional(string, "")
    sheet_id              = optional(string, "")
    portal_secrets        = optional(list(string), [])
    name                  = optional(string, "")
    portals               = optional(string, "")
    portal_hosts          = optional(list(string), [])
    address               = optional(string, "")
    contact               = optional(string, "")
    registration_number   = optional(string, "")
    bank_account          = optional(string, "")
    payment_terms         = optional(string, "next-month-end")
    holidays              = optional(string, "JP")
    closed_days           = optional(list(string), [])
    accounting            = optional(string, "embedded")
    freee_client_id       = optional(string, "")
    freee_company_id      = optional(number, 0)
    freee_client_secret   = optional(string, "")
    freee_token_vault     = optional(string, "store")
  })
  description = "Office workflow: where case folders live, either a bucket (created, the worker may write it) or a Google Drive folder in a shared drive (its id, and the id of a template folder to copy; add the worker's service account to the shared drive), the case sheet's id (share the sheet with the worker's service account), Secret Manager secrets with portal credentials the worker may read, the office name, the portals JSON and their hosts. The issuer printed on estimates and invoices (address, contact, the qualified-invoice registration number T+13 digits, the bank account, payment terms: next-month-end, month-end or 30d); working days (holidays: the country of public holidays, JP; closed_days: MM-DD or YYYY-MM-DD); accounting: embedded (PDFs) or freee, with the freee app's client id, company id, the Secret Manager secret holding its client secret, and where the refresh token is kept (store, or secret:projects/P/secrets/NAME)."
  default     = {}

  validation {
    condition     = can(regex("^(T[0-9]{13})?$", var.office.registration_number))
    error_message = "office.registration_number is T and 13 digits (適格請求書発行事業者の登録番号), e.g. T7123456789012, or empty."
  }

  validation {
    condition     = can(regex("^(next-month-end|month-end|[0-9]{1,3}d)$", var.office.payment_terms))
    error_message = "office.payment_terms is next-month-end, month-end or a number of days such as 30d."
  }

  validation {
    condition     = can(regex("^([A-Z]{2})?$", var.office.holidays))
    error_message = "office.holidays is a two-letter country code such as JP, or empty for weekends only."
  }

  validation {
    condition     = alltrue([for day in var.office.closed_days : can(regex("^([0-9]{4}-)?[0-9]{2}-[0-9]{2}$", day))])
    error_message = "office.closed_days are MM-DD (every year) or YYYY-MM-DD (once), e.g. [\"12-29\", \"12-30\", \"12-31\"]."
  }

  validation {
    condition     = contains(["embedded", "freee"], var.office.accounting)
    error_message = "office.accounting is embedded (PDFs in the case folder) or freee."
  }

  validation {
    condition     = var.office.accounting != "freee" || (var.office.freee_client_id != "" && var.office.freee_client_secret != "")
    error_message = "office.accounting = \"freee\" needs office.freee_client_id and office.freee_client_secret (the Secret Manager secret that holds the client secret)."
  }

  validation {
    condition     = var.office.freee_token_vault == "store" || can(regex("^secret:projects/[^/]+/secrets/[^/]+$", var.office.freee_token_vault))
    error_message = "office.freee_token_vault is store or secret:projects/PROJECT/secrets/NAME."
  }

  validation {
    condition     = var.office.cases_bucket == "" || var.office.drive_parent_folder == ""
    error_message = "Case folders live in one place: set office.cases_bucket or office.drive_parent_folder, not both."
  }

  validation {
    condition     = var.office.drive_template_folder == "" || var.office.drive_parent_folder != ""
    error_message = "office.drive_template_folder needs office.drive_parent_folder (the template is copied into Drive case folders)."
  }
}

variable "mail" {
  type = object({
    mailbox = optional(string, "")
    space   = optional(string, "")
    push    = optional(bool, true)
  })
  description = "Requests by mail: the request mailbox (a Google Workspace address the worker reads by domain-wide delegation; empty: no mail is read), the Chat space (spaces/…) for its cards (empty: periodic_space), and whether Gmail pushes through Pub/Sub (false: the sweep polls every minute)."
  default     = {}

  validation {
    condition     = var.mail.mailbox == "" || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.mail.mailbox))
    error_message = "mail.mailbox must be an email address, e.g. irai@example.co.jp."
  }

  validation {
    condition     = var.mail.space == "" || startswith(var.mail.space, "spaces/")
    error_message = "mail.space is a Chat space name, e.g. spaces/AAAAxxxx."
  }
}
