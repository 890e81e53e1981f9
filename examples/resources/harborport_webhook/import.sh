# Import by policy name: every project's policy of that name is adopted.
# The secret is not imported; the next apply writes the configured one.
terraform import harborport_webhook.listener harborport
