output "blueprints" {
  description = "Blueprint identifier per kind, for other Port resources (scorecards, actions) to refer to."
  value       = harborport_blueprints.harbor.identifiers
}

output "webhook_endpoint" {
  description = "Where Harbor sends events."
  value       = harborport_webhook.listener.endpoint
}

output "webhook_projects" {
  description = "Harbor projects with a harborport webhook policy (project → policy id)."
  value       = harborport_webhook.listener.policies
}

# No output of harborport_sync.harbor.change_counts on purpose: it is what the
# last apply did, and a refresh resets it to the entities in sync, so the
# output would change on every plan. `terraform show` displays it.
