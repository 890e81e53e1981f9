# The four default blueprints, exactly as Port's Harbor integration defines them.
resource "harborport_blueprints" "harbor" {}

# Overrides: other identifiers, titles, and properties for custom mappings.
resource "harborport_blueprints" "custom" {
  project = {
    identifier = "registryProject"
    title      = "Registry project"
  }
  artifact = {
    icon = "Docker"
    extra_properties = {
      vulnerabilityCount = { type = "number", title = "Vulnerabilities" }
      highSeverityCount  = { type = "number", title = "High severity" }
      scanSeverity = {
        type = "string"
        enum = ["None", "Low", "Medium", "High", "Critical"]
      }
      lastUpdated = { type = "string", format = "date-time" }
    }
  }
  repository = {
    extra_properties = {
      isActive = { type = "boolean", title = "Active" }
    }
  }

  # Destroy also deletes the blueprints' entities (default false: destroy
  # refuses while entities exist).
  delete_entities = true
}
