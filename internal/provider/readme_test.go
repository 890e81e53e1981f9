package provider

import (
	"context"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// README.md's table of provider attributes must match the schema and the
// environment variables the provider reads, and the resources it names must
// exist.
func TestReadmeProviderTable(t *testing.T) {
	var resp provider.SchemaResponse
	New("test")().Schema(context.Background(), provider.SchemaRequest{}, &resp)
	envOf := map[string]string{}
	for _, s := range []setting{sHarborURL, sHarborUsername, sHarborPassword, sHarborInsecure, sHarborCA,
		sPortClientID, sPortSecret, sPortBaseURL, sConcurrency} {
		envOf[s.attr] = s.env
	}
	for name := range resp.Schema.Attributes {
		if envOf[name] == "" {
			t.Errorf("schema attribute %s has no environment variable in this test's list", name)
		}
	}

	readme, err := os.ReadFile("../../README.md")
	must(t, err)
	rowRe := regexp.MustCompile("^\\| `([a-z_]+)` \\| `([A-Z_]+)` \\| ([^|]*) \\|")
	seen := map[string]bool{}
	for _, line := range strings.Split(string(readme), "\n") {
		m := rowRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		attr, env, def := m[1], m[2], strings.TrimSpace(m[3])
		if _, ok := resp.Schema.Attributes[attr]; !ok {
			t.Errorf("README names provider attribute %s, which the schema does not have", attr)
			continue
		}
		seen[attr] = true
		if envOf[attr] != env {
			t.Errorf("README: %s reads %s, the provider reads %s", attr, env, envOf[attr])
		}
		switch attr {
		case "port_base_url":
			if def != "`"+DefaultPortBaseURL+"`" {
				t.Errorf("README: port_base_url default %s, the provider's is %s", def, DefaultPortBaseURL)
			}
		case "max_concurrency":
			if def != "`8`" {
				t.Errorf("README: max_concurrency default %s", def)
			}
		}
	}
	var missing []string
	for name := range resp.Schema.Attributes {
		if !seen[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("README's provider table lacks %v", missing)
	}

	// Every resource type README shows in HCL exists.
	have := map[string]bool{}
	for _, f := range New("test")().Resources(context.Background()) {
		var md resource.MetadataResponse
		f().Metadata(context.Background(), resource.MetadataRequest{ProviderTypeName: "harborport"}, &md)
		have[md.TypeName] = true
	}
	if len(have) != 3 {
		t.Fatalf("resources: %v", have)
	}
	for _, m := range regexp.MustCompile(`resource "(harborport_[a-z_]+)"`).FindAllStringSubmatch(string(readme), -1) {
		if !have[m[1]] {
			t.Errorf("README shows resource %s, which the provider does not have", m[1])
		}
	}
}
