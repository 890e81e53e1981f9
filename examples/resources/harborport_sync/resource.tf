# The four default blueprints of Port's Harbor integration.
resource "harborport_blueprints" "harbor" {}

# Harbor → Port with the built-in mapping: every project, user, repository
# and artifact. Every plan previews the catalog changes in `changes` and
# `change_counts`; apply performs exactly those.
resource "harborport_sync" "harbor" {
  depends_on = [harborport_blueprints.harbor]
}

# A custom mapping in Ocean's port-app-config format (YAML or JSON); see
# examples/mappings for the examples of Port's Harbor integration page.
#
# An unscoped sync owns every entity of the blueprints its mapping writes to,
# and deletes those its mapping no longer produces. So two unscoped syncs must
# never write to the same blueprint: this one gets blueprints of its own.
# (Syncs with a `scope` can share blueprints: see the guide "Scoped ownership".)
resource "harborport_blueprints" "production" {
  project    = { identifier = "prodProject", title = "Production project" }
  user       = { identifier = "prodUser", title = "Production user" }
  repository = { identifier = "prodRepository", title = "Production repository" }
  artifact = {
    identifier = "prodArtifact"
    title      = "Production image"
    extra_properties = {
      vulnerabilityCount = { type = "number", title = "Vulnerabilities" }
      highSeverityCount  = { type = "number", title = "High severity" }
    }
  }
}

resource "harborport_sync" "production" {
  # Resources without a `port` block write to these blueprints; a `port`
  # block names its blueprint itself (here '"prodArtifact"').
  blueprints    = harborport_blueprints.production.identifiers
  mapping       = file("${path.module}/port-app-config.yaml")
  preview_limit = 20
}
