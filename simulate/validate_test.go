package simulate_test

import (
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	networkingv1 "k8s.io/api/networking/v1"
	netutils "k8s.io/utils/net"

	"github.com/netpol/netpol/internal/netpoltest"
	"github.com/netpol/netpol/simulate"
)

// policy decodes a NetworkPolicy written in flow YAML; without a metadata
// line it gets "shop/allow-web".
func policy(doc string) networkingv1.NetworkPolicy {
	if !strings.HasPrefix(doc, "metadata:") {
		doc = "metadata: {name: allow-web, namespace: shop}\n" + doc
	}
	return netpoltest.Policy(doc)
}

// problems runs Validate and returns its problems as "field: detail".
func problems(t *testing.T, np *networkingv1.NetworkPolicy) []string {
	t.Helper()
	err := simulate.Validate(np)
	if err == nil {
		return nil
	}
	var pe *simulate.PolicyError
	if !errors.As(err, &pe) {
		t.Fatalf("Validate returned %T, want *PolicyError", err)
	}
	var out []string
	for _, p := range pe.Problems {
		out = append(out, p.Error())
	}
	return out
}

func TestValidate(t *testing.T) {
	long := strings.Repeat("a", 64)
	for _, tc := range []struct {
		name string
		doc  string
		want []string
	}{
		// Valid policies.
		{"empty spec", `spec: {}`, nil},
		{"deny all", `spec: {podSelector: {}, policyTypes: [Ingress, Egress]}`, nil},
		{"full", `spec: {podSelector: {matchLabels: {app: web}, matchExpressions: [{key: tier, operator: In, values: [a, b]}, {key: x, operator: DoesNotExist}]}, ` +
			`ingress: [{from: [{podSelector: {}, namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: a}}}, {ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}], ` +
			`ports: [{port: 80}, {protocol: UDP, port: 53}, {protocol: SCTP, port: 1000, endPort: 2000}, {port: http}, {protocol: TCP}]}], ` +
			`egress: [{to: [{ipBlock: {cidr: "2001:db8::/32", except: ["2001:db8:1::/48"]}}]}, {}], policyTypes: [Egress, Ingress]}`, nil},
		{"duplicate policy type is accepted upstream", `spec: {policyTypes: [Ingress, Ingress]}`, nil},
		{"endPort equal to port", `spec: {ingress: [{ports: [{port: 80, endPort: 80}]}]}`, nil},
		{"port 65535 and 1", `spec: {ingress: [{ports: [{port: 1, endPort: 65535}]}]}`, nil},
		{"cidr with host bits is legacy-valid", `spec: {ingress: [{from: [{ipBlock: {cidr: 10.0.0.1/24, except: [10.0.0.7/25]}}]}]}`, nil},
		{"leading zeros are legacy-valid", `spec: {ingress: [{from: [{ipBlock: {cidr: 010.000.0.0/08}}]}]}`, nil},
		{"ipv4-mapped is legacy-valid", `spec: {ingress: [{from: [{ipBlock: {cidr: "::ffff:10.0.0.0/104", except: ["::ffff:10.1.0.0/112"]}}]}]}`, nil},
		{"mapped except inside ipv4 cidr", `spec: {ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: ["::ffff:10.1.0.0/112"]}}]}]}`, nil},
		{"name of 253 characters", "metadata: {name: " + strings.Repeat("a.", 126) + "a, namespace: shop}\nspec: {}", nil},

		// Metadata.
		{"no name", "metadata: {namespace: shop}\nspec: {}", []string{"metadata.name: required"}},
		{"upper-case name", "metadata: {name: Web, namespace: shop}\nspec: {}", []string{
			`metadata.name: invalid name "Web": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`}},
		{"no namespace", "metadata: {name: web}\nspec: {}", []string{"metadata.namespace: required"}},
		{"dotted namespace", "metadata: {name: web, namespace: a.b}\nspec: {}", []string{
			`metadata.namespace: invalid namespace "a.b": must not contain dots`}},
		{"long namespace", "metadata: {name: web, namespace: " + long + "}\nspec: {}", []string{
			`metadata.namespace: invalid namespace "` + long + `": must be no more than 63 bytes`}},
		{"bad metadata labels", "metadata: {name: web, namespace: shop, labels: {-a: x, b: -y}}\nspec: {}", []string{
			`metadata.labels[-a]: invalid label key "-a": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
			`metadata.labels[b]: invalid label value "-y": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`}},
		{"annotation key of any case", "metadata: {name: web, namespace: shop, annotations: {Example.COM/Note: x}}\nspec: {}", nil},
		{"bad annotation key", "metadata: {name: web, namespace: shop, annotations: {a/b/c: x}}\nspec: {}", []string{
			`metadata.annotations[a/b/c]: invalid annotation key "a/b/c": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`}},

		// Selectors.
		{"matchLabels value", `spec: {podSelector: {matchLabels: {app: "a b"}}}`, []string{
			`spec.podSelector.matchLabels[app]: invalid label value "a b": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`}},
		{"matchLabels key prefix", `spec: {podSelector: {matchLabels: {"Ex.com/app": a}}}`, []string{
			`spec.podSelector.matchLabels[Ex.com/app]: invalid label key "Ex.com/app": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`}},
		{"bad operator", `spec: {podSelector: {matchExpressions: [{key: app, operator: Equals, values: [a]}]}}`, []string{
			`spec.podSelector.matchExpressions[0].operator: invalid operator "Equals": must be In, NotIn, Exists or DoesNotExist`}},
		{"In without values", `spec: {podSelector: {matchExpressions: [{key: app, operator: In}]}}`, []string{
			`spec.podSelector.matchExpressions[0].values: required when operator is In`}},
		{"NotIn with empty values", `spec: {podSelector: {matchExpressions: [{key: app, operator: NotIn, values: []}]}}`, []string{
			`spec.podSelector.matchExpressions[0].values: required when operator is NotIn`}},
		{"Exists with values", `spec: {podSelector: {matchExpressions: [{key: app, operator: Exists, values: [a]}]}}`, []string{
			`spec.podSelector.matchExpressions[0].values: must be empty when operator is Exists`}},
		{"DoesNotExist with values", `spec: {podSelector: {matchExpressions: [{key: app, operator: DoesNotExist, values: [a]}]}}`, []string{
			`spec.podSelector.matchExpressions[0].values: must be empty when operator is DoesNotExist`}},
		{"expression key and value", `spec: {podSelector: {matchExpressions: [{key: "", operator: In, values: [ok, "x y"]}]}}`, []string{
			`spec.podSelector.matchExpressions[0].key: invalid label key "": name part must be non-empty`,
			`spec.podSelector.matchExpressions[0].key: invalid label key "": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
			`spec.podSelector.matchExpressions[0].values[1]: invalid label value "x y": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`}},
		{"peer selectors", `spec: {egress: [{to: [{podSelector: {matchExpressions: [{key: a, operator: Exists, values: [x]}]}, namespaceSelector: {matchExpressions: [{key: b, operator: In}]}}]}]}`, []string{
			`spec.egress[0].to[0].podSelector.matchExpressions[0].values: must be empty when operator is Exists`,
			`spec.egress[0].to[0].namespaceSelector.matchExpressions[0].values: required when operator is In`}},

		// Peers.
		{"empty peer", `spec: {ingress: [{from: [{}]}]}`, []string{`spec.ingress[0].from[0]: must set podSelector, namespaceSelector or ipBlock`}},
		{"ipBlock and podSelector", `spec: {ingress: [{from: [{podSelector: {}, ipBlock: {cidr: 10.0.0.0/8}}]}]}`, []string{
			`spec.ingress[0].from[0]: ipBlock may not be combined with podSelector or namespaceSelector`}},
		{"ipBlock and namespaceSelector", `spec: {egress: [{to: [{namespaceSelector: {}, ipBlock: {cidr: 10.0.0.0/8}}]}]}`, []string{
			`spec.egress[0].to[0]: ipBlock may not be combined with podSelector or namespaceSelector`}},

		// ipBlock.
		{"no cidr", `spec: {ingress: [{from: [{ipBlock: {except: [bad]}}]}]}`, []string{`spec.ingress[0].from[0].ipBlock.cidr: required`}},
		{"cidr /33", `spec: {ingress: [{from: [{podSelector: {}}, {ipBlock: {cidr: 10.0.0.0/33}}]}]}`, []string{
			`spec.ingress[0].from[1].ipBlock.cidr: invalid CIDR "10.0.0.0/33"`}},
		{"cidr without length", `spec: {egress: [{to: [{ipBlock: {cidr: 10.0.0.1, except: [bad]}}]}]}`, []string{`spec.egress[0].to[0].ipBlock.cidr: invalid CIDR "10.0.0.1"`}},
		{"cidr with zone", `spec: {egress: [{to: [{ipBlock: {cidr: "fe80::%eth0/64"}}]}]}`, []string{`spec.egress[0].to[0].ipBlock.cidr: invalid CIDR "fe80::%eth0/64"`}},
		{"octet over 255", `spec: {egress: [{to: [{ipBlock: {cidr: 10.0.0.256/32}}]}]}`, []string{`spec.egress[0].to[0].ipBlock.cidr: invalid CIDR "10.0.0.256/32"`}},
		{"except problems", `spec: {ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.0.0/16, 10.1.0.0/24, 10.0.0.0/8, bad, "::/0", 10.0.1.0/24]}}]}]}`, []string{
			`spec.ingress[0].from[0].ipBlock.except[0]: "10.0.0.0/16" is not strictly inside cidr "10.0.0.0/16"`,
			`spec.ingress[0].from[0].ipBlock.except[1]: "10.1.0.0/24" is not strictly inside cidr "10.0.0.0/16"`,
			`spec.ingress[0].from[0].ipBlock.except[2]: "10.0.0.0/8" is not strictly inside cidr "10.0.0.0/16"`,
			`spec.ingress[0].from[0].ipBlock.except[3]: invalid CIDR "bad"`,
			`spec.ingress[0].from[0].ipBlock.except[4]: "::/0" is not strictly inside cidr "10.0.0.0/16"`}},
		{"ipv4 except in ipv6 cidr", `spec: {ingress: [{from: [{ipBlock: {cidr: "::/0", except: [10.0.0.0/8]}}]}]}`, []string{
			`spec.ingress[0].from[0].ipBlock.except[0]: "10.0.0.0/8" is not strictly inside cidr "::/0"`}},
		{"mapped cidr compares written lengths", `spec: {ingress: [{from: [{ipBlock: {cidr: "::ffff:10.0.0.0/104", except: [10.1.0.0/16]}}]}]}`, []string{
			`spec.ingress[0].from[0].ipBlock.except[0]: "10.1.0.0/16" is not strictly inside cidr "::ffff:10.0.0.0/104"`}},

		// Ports.
		{"protocol", `spec: {ingress: [{ports: [{protocol: ICMP}, {protocol: tcp, port: 80}]}]}`, []string{
			`spec.ingress[0].ports[0].protocol: unsupported protocol "ICMP": must be TCP, UDP or SCTP`,
			`spec.ingress[0].ports[1].protocol: unsupported protocol "tcp": must be TCP, UDP or SCTP`}},
		{"port range", `spec: {egress: [{ports: [{port: 0}, {port: 65536}, {port: -1}]}]}`, []string{
			`spec.egress[0].ports[0].port: invalid port 0: must be between 1 and 65535, inclusive`,
			`spec.egress[0].ports[1].port: invalid port 65536: must be between 1 and 65535, inclusive`,
			`spec.egress[0].ports[2].port: invalid port -1: must be between 1 and 65535, inclusive`}},
		{"port names", `spec: {ingress: [{ports: [{port: HTTP}, {port: "8080"}, {port: a--b}, {port: -ab}, {port: abcdefghijklmnop}]}]}`, []string{
			`spec.ingress[0].ports[0].port: invalid port name "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`,
			`spec.ingress[0].ports[0].port: invalid port name "HTTP": must contain at least one letter (a-z)`,
			`spec.ingress[0].ports[1].port: invalid port name "8080": must contain at least one letter (a-z)`,
			`spec.ingress[0].ports[2].port: invalid port name "a--b": must not contain consecutive hyphens`,
			`spec.ingress[0].ports[3].port: invalid port name "-ab": must not begin or end with a hyphen`,
			`spec.ingress[0].ports[4].port: invalid port name "abcdefghijklmnop": must be no more than 15 characters`}},
		{"empty port name", `spec: {ingress: [{ports: [{port: ""}]}]}`, []string{
			`spec.ingress[0].ports[0].port: invalid port name "": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`,
			`spec.ingress[0].ports[0].port: invalid port name "": must contain at least one letter (a-z)`}},
		{"endPort", `spec: {ingress: [{ports: [{port: 80, endPort: 79}, {port: 80, endPort: 70000}, {port: 0, endPort: 0}, {port: http, endPort: 90}, {endPort: 90}]}]}`, []string{
			`spec.ingress[0].ports[0].endPort: endPort 79 is less than port 80`,
			`spec.ingress[0].ports[1].endPort: invalid endPort 70000: must be between 1 and 65535, inclusive`,
			`spec.ingress[0].ports[2].port: invalid port 0: must be between 1 and 65535, inclusive`,
			`spec.ingress[0].ports[2].endPort: invalid endPort 0: must be between 1 and 65535, inclusive`,
			`spec.ingress[0].ports[3].endPort: may not be set when port is the name "http"`,
			`spec.ingress[0].ports[4].endPort: may not be set without port`}},

		// Policy types.
		{"unknown policy type", `spec: {policyTypes: [Ingress, Both]}`, []string{`spec.policyTypes[1]: unsupported policy type "Both": must be Ingress or Egress`}},
		{"lower-case policy type", `spec: {policyTypes: [egress]}`, []string{`spec.policyTypes[0]: unsupported policy type "egress": must be Ingress or Egress`}},
		{"three policy types", `spec: {policyTypes: [Ingress, Egress, Bad]}`, []string{`spec.policyTypes: may not list more than two policy types, got 3`}},

		// Everything at once, in field order.
		{"all problems in order", "metadata: {name: Web}\n" + `spec: {podSelector: {matchLabels: {a: "-"}}, ingress: [{from: [{}], ports: [{port: 0}]}], egress: [{to: [{ipBlock: {cidr: x}}]}], policyTypes: [X]}`, []string{
			`metadata.name: invalid name "Web": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
			`metadata.namespace: required`,
			`spec.podSelector.matchLabels[a]: invalid label value "-": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
			`spec.ingress[0].ports[0].port: invalid port 0: must be between 1 and 65535, inclusive`,
			`spec.ingress[0].from[0]: must set podSelector, namespaceSelector or ipBlock`,
			`spec.egress[0].to[0].ipBlock.cidr: invalid CIDR "x"`,
			`spec.policyTypes[0]: unsupported policy type "X": must be Ingress or Egress`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			np := policy(tc.doc)
			before := np.DeepCopy()
			if diff := cmp.Diff(tc.want, problems(t, &np)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, &np); diff != "" {
				t.Errorf("Validate changed its input (-before +after):\n%s", diff)
			}
		})
	}
}

func TestValidateNil(t *testing.T) {
	if err := simulate.Validate(nil); err != nil {
		t.Errorf("Validate(nil) = %v, want nil", err)
	}
}

func TestPolicyErrorMessage(t *testing.T) {
	np := policy(`spec: {ingress: [{from: [{podSelector: {}}, {ipBlock: {cidr: 10.0.0.0/33}}], ports: [{protocol: ICMP}]}]}`)
	err := simulate.Validate(&np)
	want := `NetworkPolicy shop/allow-web: spec.ingress[0].ports[0].protocol: unsupported protocol "ICMP": must be TCP, UDP or SCTP
NetworkPolicy shop/allow-web: spec.ingress[0].from[1].ipBlock.cidr: invalid CIDR "10.0.0.0/33"`
	if err == nil || err.Error() != want {
		t.Fatalf("Validate() = %v\nwant %s", err, want)
	}
	var fe *simulate.FieldError
	if !errors.As(err, &fe) || fe.Field != "spec.ingress[0].ports[0].protocol" {
		t.Errorf("errors.As(*FieldError) = %+v, want the first problem", fe)
	}
	unnamed := policy("metadata: {name: x}\nspec: {}")
	if got, want := simulate.Validate(&unnamed).Error(), "NetworkPolicy x: metadata.namespace: required"; got != want {
		t.Errorf("without namespace: %q, want %q", got, want)
	}
}

func TestAnnotationsTooLong(t *testing.T) {
	np := policy(`spec: {}`)
	np.Annotations = map[string]string{"a": strings.Repeat("x", 256*1024)}
	want := []string{"metadata.annotations: too long: 262145 bytes, may not be more than 262144"}
	if diff := cmp.Diff(want, problems(t, &np)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestWarnings(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		want []string
	}{
		{"canonical", `spec: {ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]}], egress: [{to: [{ipBlock: {cidr: "2001:db8::/32"}}]}]}`, nil},
		{"host bits", `spec: {ingress: [{from: [{podSelector: {}}, {ipBlock: {cidr: 10.0.0.1/24}}]}]}`, []string{
			`spec.ingress[0].from[1].ipBlock.cidr: CIDR "10.0.0.1/24" has host bits set: it means "10.0.0.0/24" (did you mean "10.0.0.1/32"?)`}},
		{"leading zeros", `spec: {egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [010.1.0.0/16, 10.2.0.0/016]}}]}]}`, []string{
			`spec.egress[0].to[0].ipBlock.except[0]: non-standard CIDR "010.1.0.0/16": use "10.1.0.0/16"`,
			`spec.egress[0].to[0].ipBlock.except[1]: non-standard CIDR "10.2.0.0/016": use "10.2.0.0/16"`}},
		{"mapped", `spec: {egress: [{to: [{ipBlock: {cidr: "::ffff:10.0.0.0/104"}}]}]}`, []string{
			`spec.egress[0].to[0].ipBlock.cidr: non-standard CIDR "::ffff:10.0.0.0/104": use "10.0.0.0/8"`}},
		{"ipv6 spelling", `spec: {egress: [{to: [{ipBlock: {cidr: "2001:DB8:0:0::/64"}}]}]}`, []string{
			`spec.egress[0].to[0].ipBlock.cidr: IPv6 CIDR "2001:DB8:0:0::/64" is not in RFC 5952 canonical form "2001:db8::/64"`}},
		{"invalid is not a warning", `spec: {egress: [{to: [{ipBlock: {cidr: bad}}]}]}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			np := policy(tc.doc)
			if diff := cmp.Diff(tc.want, simulate.Warnings(&np)); diff != "" {
				t.Errorf("Warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseIPBlockCIDR(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want "" for an error
	}{
		{"10.0.0.0/8", "10.0.0.0/8"},
		{"10.1.2.3/8", "10.0.0.0/8"},
		{"010.001.0.0/016", "10.1.0.0/16"},
		{"0.0.0.0/0", "0.0.0.0/0"},
		{"2001:DB8::1/32", "2001:db8::/32"},
		{"::/0", "::/0"},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8"},
		{"::ffff:0:0/96", "0.0.0.0/0"},
		{"::ffff:0:0/95", "::fffe:0:0/95"},
		{"::00001/128", "::1/128"},
		{"1:2:3:4:5:6:1.2.3.4/128", "1:2:3:4:5:6:102:304/128"},
		{"10.0.0.0/33", ""},
		{"10.0.0.0", ""},
		{"10.0.0.0/", ""},
		{"10.0.0.0/+8", ""},
		{"10.0.0/8", ""},
		{"::1/129", ""},
		{"1::2::3/64", ""},
		{"1:2:3:4:5:6:7:8::/64", ""},
		{"fe80::1%eth0/64", ""},
		{"", ""},
	} {
		got, err := simulate.ParseIPBlockCIDR(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("ParseIPBlockCIDR(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got.String() != tc.want {
			t.Errorf("ParseIPBlockCIDR(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

// upstreamPrefix is the reference: the prefix that net.IPNet.Contains
// applies to a CIDR parsed by k8s.io/utils/net.ParseCIDRSloppy, as the API
// server parses it.
func upstreamPrefix(s string) (netip.Prefix, bool) {
	_, ipnet, err := netutils.ParseCIDRSloppy(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	nn, mask := ipnet.IP.To4(), ipnet.Mask
	if nn == nil {
		nn = ipnet.IP
	}
	if len(mask) == net.IPv6len && len(nn) == net.IPv4len {
		mask = mask[12:]
	}
	ones, _ := mask.Size()
	a, _ := netip.AddrFromSlice(nn)
	return netip.PrefixFrom(a, ones), true
}

// upstreamStrictSubset is ValidateIPBlock's except check, with net.IPNet.
func upstreamStrictSubset(cidr, except string) bool {
	_, c, _ := netutils.ParseCIDRSloppy(cidr)
	_, e, _ := netutils.ParseCIDRSloppy(except)
	cl, _ := c.Mask.Size()
	el, _ := e.Mask.Size()
	return c.Contains(e.IP) && cl < el
}

var cidrSeeds = []string{
	"10.0.0.0/8", "10.1.2.3/24", "010.0.0.0/8", "10.0.0.0/08", "::ffff:10.0.0.0/104", "::ffff:0:0/96",
	"::ffff:0:0/95", "2001:db8::/32", "::/0", "0.0.0.0/0", "::00001/128", "1:2:3:4:5:6:1.2.3.4/120",
	"::1.2.3.4/128", "1::/200", "1.2.3.4/33", "a::b::c/1", "::%1/0", "999999999.1.1.1/8",
}

func FuzzParseIPBlockCIDR(f *testing.F) {
	for _, s := range cidrSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, wantOK := upstreamPrefix(s)
		got, err := simulate.ParseIPBlockCIDR(s)
		if (err == nil) != wantOK || (wantOK && got != want) {
			t.Fatalf("ParseIPBlockCIDR(%q) = %v, %v; upstream %v, %v", s, got, err, want, wantOK)
		}
	})
}

func FuzzExcept(f *testing.F) {
	for i, s := range cidrSeeds {
		f.Add(s, cidrSeeds[(i+1)%len(cidrSeeds)])
		f.Add(s, s)
	}
	f.Add("10.0.0.0/8", "::ffff:10.1.0.0/112")
	f.Fuzz(func(t *testing.T, cidr, except string) {
		if _, ok := upstreamPrefix(cidr); !ok {
			return
		}
		if _, ok := upstreamPrefix(except); !ok {
			return
		}
		np := policy(`spec: {}`)
		np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{
			{IPBlock: &networkingv1.IPBlock{CIDR: cidr, Except: []string{except}}},
		}}}
		got := simulate.Validate(&np) == nil
		if want := upstreamStrictSubset(cidr, except); got != want {
			t.Fatalf("cidr %q except %q: valid = %v, upstream %v", cidr, except, got, want)
		}
	})
}

var validateSeeds = []string{
	`{}`,
	`{"metadata":{"name":"a","namespace":"b"},"spec":{"podSelector":{},"ingress":[],"egress":[{}]}}`,
	`{"metadata":{"name":"a","namespace":"b","labels":{"x":"y"}},"spec":{"podSelector":{"matchExpressions":[{"key":"k","operator":"In","values":[]}]},
	  "ingress":[{"from":[{"ipBlock":{"cidr":"10.0.0.1/8","except":["10.1.0.0/16",""]}},{}],"ports":[{"port":"http","endPort":3},{"port":80,"endPort":70}]}],
	  "egress":[{"to":[{"podSelector":{"matchLabels":{"a":""}},"namespaceSelector":{}}],"ports":[{"protocol":"UDP"}]}],"policyTypes":["Egress","Egress","Ingress"]}}`,
	`{"spec":{"ingress":[{"from":[],"ports":[]}],"policyTypes":[]}}`,
}

// FuzzValidate checks that Validate never panics or changes its input, and
// that Default is idempotent and keeps the verdict of Validate stable.
func FuzzValidate(f *testing.F) {
	for _, s := range validateSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var np networkingv1.NetworkPolicy
		if json.Unmarshal(data, &np) != nil {
			return
		}
		before := np.DeepCopy()
		raw := simulate.Validate(&np)
		if diff := cmp.Diff(before, &np); diff != "" {
			t.Fatalf("Validate changed its input:\n%s", diff)
		}
		_ = simulate.Warnings(&np)
		simulate.Default(&np)
		once := np.DeepCopy()
		simulate.Default(&np)
		if diff := cmp.Diff(once, &np); diff != "" {
			t.Fatalf("Default is not idempotent:\n%s", diff)
		}
		first, second := errText(simulate.Validate(once)), errText(simulate.Validate(&np))
		if first != second {
			t.Fatalf("Validate after Default twice differs:\n%s\n---\n%s", first, second)
		}
		if raw == nil && first != "" {
			t.Fatalf("Default made a valid policy invalid:\n%s", first)
		}
	})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
