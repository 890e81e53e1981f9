// Package charttest checks the harborport-listener Helm chart offline: helm
// lint and helm template (the helm binary named by $HELM), every rendered
// manifest strictly decoded into its Kubernetes API type, and what the
// manifests must say (README.md beside the chart has the details).
//
// It is a module of its own so that the Kubernetes API modules stay out of
// the provider's go.mod: the provider never imports them.
package charttest
