// Command terraform-provider-harborport is the harborport Terraform provider.
// Started as `terraform-provider-harborport serve` it is the webhook listener
// that keeps Port current in real time. Terraform starts plugins with no
// arguments, so the first argument is free for that dispatch.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/provider"
	"github.com/harborport/terraform-provider-harborport/internal/serve"
	"github.com/harborport/terraform-provider-harborport/internal/version"
)

func main() {
	catalog.TuneGC()
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := serve.Main(ctx, os.Args[2:], os.Getenv, os.Stderr)
		stop()
		os.Exit(code)
	}

	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	err := providerserver.Serve(context.Background(), provider.New(version.Version), providerserver.ServeOpts{
		Address: "registry.terraform.io/harborport/harborport",
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}
