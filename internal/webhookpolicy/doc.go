// Package webhookpolicy owns harborport's Harbor webhook policies: one policy
// of one name per project, pointing at the listener (internal/DESIGN.md
// "Webhook policies"). It surveys Harbor (which projects are selected, which
// policy each holds), turns the difference with the wanted policy into
// operations (create, adopt, update, delete), and executes them
// conditionally: each operation carries a fingerprint of the policy the
// survey read, and execute leaves alone a policy that changed in Harbor since
// (internal/DESIGN.md "Conditional apply (two writers)").
//
// Two callers: harborport_webhook (internal/provider), which stores the
// surveyed operations in private state between plan and apply, and `serve`,
// which reports the projects that have no such policy (Coverage), where only
// the audit-log feed hears of changes.
//
// It knows nothing of Terraform: problems come back as Diags, which the
// provider turns into framework diagnostics.
package webhookpolicy
