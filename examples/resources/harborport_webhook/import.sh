# Import by policy name: every project's policy of that name is adopted.
# The secret cannot be read back into configuration terms; the next apply
# writes the configured one.
terraform import harborport_webhook.listener harborport
