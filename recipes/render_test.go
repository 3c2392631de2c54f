package recipes_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netpol/netpol/recipes"
	"github.com/netpol/netpol/simulate"
)

// TestCatalogue pins the catalogue: the classic list, in order.
func TestCatalogue(t *testing.T) {
	all, err := recipes.All()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range all {
		names = append(names, r.Name)
	}
	want := []string{
		"deny-all-to-app", "limit-traffic-to-app", "allow-all-to-app", "default-deny-ingress",
		"deny-other-namespaces", "allow-all-namespaces", "allow-from-namespace",
		"allow-from-pods-in-namespace", "allow-external", "allow-ports", "allow-multiple-selectors",
		"deny-egress-from-app", "default-deny-egress", "deny-external-egress", "allow-dns-egress",
		"allow-api-server-egress", "default-deny-with-dns",
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("catalogue (-want +got):\n%s", diff)
	}
}

// sample is a valid value of each kind, for rendering with every parameter
// set.
var sample = map[recipes.Kind]string{
	recipes.KindValue: "x", recipes.KindPods: "web", recipes.KindLabels: "app=x",
	recipes.KindSelectors: "app=x;app=y,tier=z", recipes.KindName: "custom-name",
	recipes.KindNamespace: "other", recipes.KindPorts: "8080,metrics,53/UDP", recipes.KindCIDRs: "10.0.0.0/8",
}

// TestRenderValid renders every recipe with only its required parameters,
// and with every parameter set, and checks that the policies pass the API
// server's validation, in the namespace asked for.
func TestRenderValid(t *testing.T) {
	all, err := recipes.All()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		required, every := map[string]string{}, map[string]string{}
		for _, p := range r.Params {
			v := sample[p.Kind]
			if p.Within != "" {
				v = "10.1.0.0/16"
			}
			every[p.Name] = v
			if p.Required {
				required[p.Name] = v
			}
		}
		for _, values := range []map[string]string{required, every} {
			out, err := r.Render("team-a", values)
			if err != nil {
				t.Errorf("%s %v: %v", r.Name, values, err)
				continue
			}
			for i := range out.Policies {
				np := out.Policies[i].DeepCopy()
				simulate.Default(np)
				if err := simulate.Validate(np); err != nil {
					t.Errorf("%s %v: invalid policy: %v\n%s", r.Name, values, err, out.YAML)
				}
				if np.Namespace != "team-a" {
					t.Errorf("%s: namespace %q", r.Name, np.Namespace)
				}
			}
			if !strings.HasSuffix(string(out.YAML), "\n") || strings.HasSuffix(string(out.YAML), "\n\n") {
				t.Errorf("%s: the YAML does not end in exactly one newline:\n%q", r.Name, out.YAML)
			}
			if !strings.Contains(string(out.YAML), "netpol recipe render "+r.Name+" -n team-a") {
				t.Errorf("%s: the YAML does not say how it was rendered:\n%s", r.Name, out.YAML)
			}
		}
	}
}

// TestRenderValues checks that values reach the policy as the same
// strings, however YAML would read them plain, and that names derive from
// them.
func TestRenderValues(t *testing.T) {
	tests := []struct {
		name, app, wantName string
		wantLabels          map[string]string
	}{
		{"plain", "web", "web-deny-all", map[string]string{"app": "web"}},
		{"yaml boolean", "yes", "yes-deny-all", map[string]string{"app": "yes"}},
		{"yaml on", "On", "on-deny-all", map[string]string{"app": "On"}},
		{"number", "123", "123-deny-all", map[string]string{"app": "123"}},
		{"float", "1e3", "1e3-deny-all", map[string]string{"app": "1e3"}},
		{"octal", "010", "010-deny-all", map[string]string{"app": "010"}},
		{"null", "null", "null-deny-all", map[string]string{"app": "null"}},
		{"labels", "app.kubernetes.io/name=Web_1,tier=front", "web-1-front-deny-all",
			map[string]string{"app.kubernetes.io/name": "Web_1", "tier": "front"}},
	}
	r, err := recipes.Get("deny-all-to-app")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := r.Render("shop", map[string]string{"app": tc.app})
			if err != nil {
				t.Fatal(err)
			}
			np := out.Policies[0]
			if np.Name != tc.wantName {
				t.Errorf("name %q, want %q", np.Name, tc.wantName)
			}
			if diff := cmp.Diff(tc.wantLabels, np.Spec.PodSelector.MatchLabels); diff != "" {
				t.Errorf("podSelector (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRenderErrors checks that every problem is reported at once, in words
// that name the parameter.
func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name, recipe, namespace string
		values                  map[string]string
		want                    []string // substrings of the error, in order
	}{
		{"missing", "allow-from-pods-in-namespace", "shop", map[string]string{"app": "web"},
			[]string{"recipe allow-from-pods-in-namespace: missing required parameters fromNamespace (the namespace of the pods that may connect), fromPods (the labels"}},
		{"missing one", "deny-all-to-app", "shop", nil,
			[]string{"missing required parameter app ("}},
		{"empty required", "deny-all-to-app", "shop", map[string]string{"app": " "},
			[]string{"parameter app: must not be empty"}},
		{"unknown", "deny-all-to-app", "shop", map[string]string{"app": "web", "ap": "x"},
			[]string{`recipe deny-all-to-app has no parameter "ap"; its parameters are app, name`}},
		{"bad namespace", "default-deny-ingress", "Shop", nil, []string{`namespace "Shop": `}},
		{"bad label", "deny-all-to-app", "shop", map[string]string{"app": "a b"},
			[]string{`parameter app: "a b" is not a label value`}},
		{"bad key", "limit-traffic-to-app", "shop", map[string]string{"app": "web", "from": "-x=1"},
			[]string{`parameter from: "-x" is not a label key`}},
		{"not k=v", "limit-traffic-to-app", "shop", map[string]string{"app": "web", "from": "api"},
			[]string{`parameter from: "api" is not a label KEY=VALUE`}},
		{"bad port", "allow-ports", "shop", map[string]string{"app": "web", "ports": "70000,53/ICMP,no_name"},
			[]string{`"70000": must be between 1 and 65535`, `"53/ICMP": protocol must be TCP, UDP or SCTP`, `"no_name" is neither a port number nor a port name`}},
		{"host bits", "allow-external", "shop", map[string]string{"app": "web", "cidrs": "10.0.0.1/8"},
			[]string{`"10.0.0.1/8" has host bits set; did you mean 10.0.0.0/8?`}},
		{"bad cidr", "allow-api-server-egress", "shop", map[string]string{"app": "a", "apiServer": "kubernetes"},
			[]string{`"kubernetes" is not a CIDR`}},
		{"except outside", "allow-external", "shop", map[string]string{"app": "web", "cidrs": "10.0.0.0/8", "except": "192.168.0.0/16"},
			[]string{"parameter except: 192.168.0.0/16 is not strictly inside any range of cidrs"}},
		{"not labels", "deny-all-to-app", "shop", map[string]string{"app": "web,tier=front"},
			[]string{`parameter app: "web" is not a label KEY=VALUE`}},
		{"default too long", "allow-from-pods-in-namespace", "shop",
			map[string]string{"app": strings.Repeat("a", 63), "fromNamespace": strings.Repeat("n", 63), "fromPods": "x=" + strings.Repeat("p", 63) + ",y=" + strings.Repeat("q", 63)},
			[]string{`parameter name: its default "{app}-allow-from-{fromNamespace}-{fromPods}" expands to "aaa`, "set it explicitly"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := recipes.Get(tc.recipe)
			if err != nil {
				t.Fatal(err)
			}
			_, err = r.Render(tc.namespace, tc.values)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, "parameter name:") && tc.name != "default too long" {
				t.Errorf("a default that uses a wrong parameter is reported too: %q", msg)
			}
			for _, w := range tc.want {
				i := strings.Index(msg, w)
				if i < 0 {
					t.Fatalf("error %q does not contain %q", msg, w)
				}
				msg = msg[i+len(w):]
			}
		})
	}
}

// TestMissingError checks that callers can find the missing parameters.
func TestMissingError(t *testing.T) {
	r, err := recipes.Get("allow-from-namespace")
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Render("shop", map[string]string{"bogus": "1"})
	var me *recipes.MissingError
	if !errors.As(err, &me) {
		t.Fatalf("no *MissingError in %v", err)
	}
	var names []string
	for _, p := range me.Params {
		names = append(names, p.Name)
	}
	if diff := cmp.Diff([]string{"app", "fromNamespace"}, names); diff != "" {
		t.Errorf("missing (-want +got):\n%s", diff)
	}
}

func TestGetUnknown(t *testing.T) {
	tests := []struct{ name, want string }{
		{"nope", `no recipe "nope"`},
		{"default-deny", `no recipe "default-deny"; did you mean default-deny-ingress or default-deny-egress or default-deny-with-dns?`},
	}
	for _, tc := range tests {
		_, err := recipes.Get(tc.name)
		var ue *recipes.UnknownError
		if !errors.As(err, &ue) || err.Error() != tc.want {
			t.Errorf("Get(%q) = %v, want %s", tc.name, err, tc.want)
		}
	}
}
