variable "region" {
  type        = string
  description = "AWS region of the queues."
  default     = "ap-northeast-1"
}

variable "aws_endpoint" {
  type        = string
  description = "One endpoint for SQS, IAM and STS (a moto server for tests); empty for AWS itself."
  default     = ""
}

variable "queue_prefix" {
  type        = string
  description = "Prefix added to every queue name (e.g. an environment name and a hyphen); must match ACKFLOW_SQS_QUEUE_PREFIX."
  default     = ""

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{0,20}$", var.queue_prefix))
    error_message = "Use at most 20 letters, digits, hyphens or underscores."
  }
}

variable "queues_file" {
  type        = string
  description = "The queue definitions shared with the Python registry."
  default     = ""
}

variable "visibility_margin_seconds" {
  type        = number
  description = "How much longer than a queue's longest step a message stays invisible while the worker runs it."
  default     = 60

  validation {
    condition     = var.visibility_margin_seconds >= 30
    error_message = "Leave at least 30 seconds between the step timeout and the visibility timeout."
  }
}

variable "message_retention_seconds" {
  type        = number
  description = "How long a message is kept in a queue (60 to 1209600 seconds); its dead-letter queue always keeps 14 days, SQS's longest."
  default     = 1209600

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600
    error_message = "SQS keeps a message from 60 seconds to 14 days (1209600 seconds)."
  }
}
