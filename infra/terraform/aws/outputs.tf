output "queue_urls" {
  description = "SQS queue URL per queue definition."
  value       = { for key, queue in aws_sqs_queue.queues : key => queue.id }
}

output "dead_letter_queue_arns" {
  description = "Dead-letter queue ARN per queue definition."
  value       = { for key, queue in aws_sqs_queue.dead_letters : key => queue.arn }
}

output "sender_policy_arn" {
  description = "IAM policy to attach to whatever sends tasks (the webhook's and worker's identity)."
  value       = aws_iam_policy.sender.arn
}

output "relay_policy_arn" {
  description = "IAM policy to attach to the relay (the Lambda's role, or the host running ackflow sqs-relay)."
  value       = aws_iam_policy.relay.arn
}
