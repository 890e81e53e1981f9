# The import ID is not used: there is one catalog per mapping, and the next
# plan shows what the configured mapping would change in it.
terraform import harborport_sync.harbor default
