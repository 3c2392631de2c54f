// Package krew_test checks the krew manifest of the kubectl plugin
// against the release script that writes it (hack/release.sh).
package krew_test

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// manifest is the part of a krew Plugin that netpol uses.
type manifest struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version          string `json:"version"`
		Homepage         string `json:"homepage"`
		ShortDescription string `json:"shortDescription"`
		Description      string `json:"description"`
		Platforms        []struct {
			Selector struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"selector"`
			URI    string `json:"uri"`
			SHA256 string `json:"sha256"`
			Bin    string `json:"bin"`
		} `json:"platforms"`
	} `json:"spec"`
}

// TestManifest: netpol.yaml is a krew Plugin whose platforms are linux
// and darwin on amd64 and arm64, each the release asset that
// hack/release.sh names for the version, with a sha256 and the
// kubectl-netpol binary. (hack/release.sh checks the sha256s against the
// archives it builds; .ci/run runs it.)
func TestManifest(t *testing.T) {
	data, err := os.ReadFile("netpol.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := yaml.UnmarshalStrict(data, &m); err != nil {
		t.Fatal(err)
	}
	if m.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || m.Kind != "Plugin" || m.Metadata.Name != "netpol" {
		t.Errorf("apiVersion %q kind %q name %q", m.APIVersion, m.Kind, m.Metadata.Name)
	}
	if !regexp.MustCompile(`^v\d+\.\d+\.\d+$`).MatchString(m.Spec.Version) {
		t.Errorf("version %q", m.Spec.Version)
	}
	if m.Spec.ShortDescription == "" || m.Spec.Description == "" || m.Spec.Homepage == "" {
		t.Error("shortDescription, description and homepage must be set")
	}
	out, err := exec.Command("bash", "../../hack/release.sh", "--archives", m.Spec.Version).Output()
	if err != nil {
		t.Fatalf("hack/release.sh --archives: %v", err)
	}
	archives := strings.Fields(string(out))
	var got, want []string
	for _, p := range m.Spec.Platforms {
		l := p.Selector.MatchLabels
		got = append(got, l["os"]+"/"+l["arch"]+" "+p.URI+" "+p.Bin)
		if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(p.SHA256) {
			t.Errorf("%s: sha256 %q", p.URI, p.SHA256)
		}
	}
	for _, a := range archives {
		parts := strings.Split(strings.TrimSuffix(a, ".tar.gz"), "_") // netpol, version, os, arch
		want = append(want, parts[2]+"/"+parts[3]+" https://github.com/netpol/netpol/releases/download/"+m.Spec.Version+"/"+a+" kubectl-netpol")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("platforms (-release.sh +netpol.yaml):\n%s", diff)
	}
	if len(want) != 4 {
		t.Errorf("release.sh builds %d platforms, want linux and darwin on amd64 and arm64", len(want))
	}
}
