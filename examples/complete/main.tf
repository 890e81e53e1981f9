# The Harbor catalog in Port: blueprints, the sync that fills them, and the
# webhooks that keep them current between applies.

# The four blueprints of Port's Harbor integration (harborProject,
# harborUser, harborRepository, harborArtifact), plus the properties our
# mapping adds to artifacts. Destroy refuses while entities exist
# (delete_entities = false), so the catalog is never dropped by accident.
resource "harborport_blueprints" "harbor" {
  artifact = {
    extra_properties = {
      vulnerabilityCount = {
        type        = "number"
        title       = "Vulnerabilities"
        description = "Total findings of the latest scan"
      }
      criticalCount = {
        type  = "number"
        title = "Critical findings"
      }
      highCount = {
        type  = "number"
        title = "High findings"
      }
      scanStatus = {
        type  = "string"
        title = "Scan status"
        enum  = ["Success", "Running", "Pending", "Scheduled", "Error", "Stopped", "Not scanned"]
      }
    }
  }
}

# Harbor → Port. `terraform plan` lists the entities that would be created,
# updated or deleted (attribute `changes`, exact totals in `change_counts`);
# `terraform apply` writes exactly those. The mapping is versioned next to
# this file; see mapping/port-app-config.yaml.
resource "harborport_sync" "harbor" {
  blueprints    = harborport_blueprints.harbor.identifiers
  mapping       = file("${path.module}/mapping/port-app-config.yaml")
  preview_limit = var.preview_limit
}

# Harbor's webhooks → the listener, which updates Port within seconds of a
# push, scan or delete. The listener re-reads Harbor through the same
# mapping, so start it with --mapping pointing at the same file.
resource "harborport_webhook" "listener" {
  endpoint = "${trimsuffix(var.listener_url, "/")}/integration/webhook"
  secret   = var.webhook_secret
  projects = var.webhook_projects

  # Events only make sense once the catalog exists.
  depends_on = [harborport_sync.harbor]
}
