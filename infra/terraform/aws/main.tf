# SQS path: a standard queue per queue definition, each with a dead-letter queue. SQS moves a
# message to the DLQ after max_attempts receives, the same attempt budget Cloud Tasks applies.

locals {
  queues_file = var.queues_file != "" ? var.queues_file : "${path.module}/../../../functions/workers/queues.json"
  queues      = jsondecode(file(local.queues_file)).queues
}

resource "aws_sqs_queue" "dead_letters" {
  for_each = local.queues

  name = "${var.queue_prefix}${each.key}-dlq"
  # SQS's longest. A message SQS moves here keeps its first enqueue time and expires by this
  # retention counted from then: AWS advises a DLQ retention longer than its queue's.
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "queues" {
  for_each = local.queues

  name                       = "${var.queue_prefix}${each.key}"
  visibility_timeout_seconds = each.value.max_step_timeout_seconds + var.visibility_margin_seconds
  message_retention_seconds  = var.message_retention_seconds
  receive_wait_time_seconds  = 20
  sqs_managed_sse_enabled    = true

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letters[each.key].arn
    maxReceiveCount     = each.value.retry_config.max_attempts
  })
}

# Who sends tasks (the webhook and the worker) and who relays them to the worker.
data "aws_iam_policy_document" "sender" {
  statement {
    sid       = "SendTasks"
    actions   = ["sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"]
    resources = [for queue in aws_sqs_queue.queues : queue.arn]
  }
}

data "aws_iam_policy_document" "relay" {
  statement {
    sid = "RelayTasks"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueUrl",
      "sqs:GetQueueAttributes",
      # a delay beyond SQS's 900 s: the relay sends the message again with the rest of it
      "sqs:SendMessage",
    ]
    resources = [for queue in aws_sqs_queue.queues : queue.arn]
  }

  # a job that failed for good (the worker says FAILED): the relay moves its message to the DLQ
  statement {
    sid       = "DeadLetterFailedJobs"
    actions   = ["sqs:SendMessage", "sqs:GetQueueUrl"]
    resources = [for queue in aws_sqs_queue.dead_letters : queue.arn]
  }
}

resource "aws_iam_policy" "sender" {
  name        = "${var.queue_prefix}ackflow-task-sender"
  description = "Send Ackflow tasks to its SQS queues."
  policy      = data.aws_iam_policy_document.sender.json
}

resource "aws_iam_policy" "relay" {
  name        = "${var.queue_prefix}ackflow-sqs-relay"
  description = "Receive, delete, delay and dead-letter Ackflow tasks on its SQS queues (the relay)."
  policy      = data.aws_iam_policy_document.relay.json
}
