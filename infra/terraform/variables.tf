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
  description = "More ACKFLOW_* settings for both functions (office workflow: sheet id, storage bucket, portal hosts)."
  default     = {}
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
    template_in_repo      = optional(bool, true)
  })
  description = "Office workflow: where case folders live, either a bucket (created, the worker may write it) or a Google Drive folder in a shared drive (its id, and the id of a template folder to copy; add the worker's service account to the shared drive), the case sheet's id (share the sheet with the worker's service account), Secret Manager secrets with portal credentials the worker may read, the office name, the portals JSON and their hosts."
  default     = {}

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
