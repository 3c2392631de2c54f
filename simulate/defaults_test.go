package simulate_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netpol/netpol/simulate"
)

func TestDefault(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string // flow-YAML specs; metadata is added
	}{
		{"empty spec is ingress", `spec: {}`, `spec: {policyTypes: [Ingress]}`},
		{"ingress rules only", `spec: {ingress: [{}]}`, `spec: {ingress: [{}], policyTypes: [Ingress]}`},
		{"egress rules add Egress", `spec: {egress: [{}]}`, `spec: {egress: [{}], policyTypes: [Ingress, Egress]}`},
		{"empty egress list is no rules", `spec: {egress: []}`, `spec: {policyTypes: [Ingress]}`},
		{"empty ingress list is nil", `spec: {ingress: [], policyTypes: [Ingress]}`, `spec: {policyTypes: [Ingress]}`},
		{"empty policyTypes is defaulted", `spec: {egress: [{}], policyTypes: []}`, `spec: {egress: [{}], policyTypes: [Ingress, Egress]}`},
		{"explicit policyTypes kept", `spec: {egress: [{}], policyTypes: [Egress]}`, `spec: {egress: [{}], policyTypes: [Egress]}`},
		{"explicit Egress only kept", `spec: {ingress: [{}], policyTypes: [Egress]}`, `spec: {ingress: [{}], policyTypes: [Egress]}`},
		{"invalid policyTypes kept", `spec: {policyTypes: [Both]}`, `spec: {policyTypes: [Both]}`},
		{"protocol defaults to TCP", `spec: {ingress: [{ports: [{port: 80}, {protocol: UDP}, {}]}], egress: [{ports: [{port: dns}]}]}`,
			`spec: {ingress: [{ports: [{port: 80, protocol: TCP}, {protocol: UDP}, {protocol: TCP}]}], egress: [{ports: [{port: dns, protocol: TCP}]}], policyTypes: [Ingress, Egress]}`},
		{"empty rule lists are nil", `spec: {ingress: [{from: [], ports: []}], egress: [{to: [], ports: []}]}`,
			`spec: {ingress: [{}], egress: [{}], policyTypes: [Ingress, Egress]}`},
		{"empty selector lists are nil", `spec: {podSelector: {matchLabels: {}, matchExpressions: []}, ingress: [{from: [{podSelector: {matchExpressions: [{key: a, operator: Exists, values: []}]}, namespaceSelector: {matchLabels: {}}}]}]}`,
			`spec: {podSelector: {}, ingress: [{from: [{podSelector: {matchExpressions: [{key: a, operator: Exists}]}, namespaceSelector: {}}]}], policyTypes: [Ingress]}`},
		{"empty except is nil", `spec: {egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: []}}]}]}`,
			`spec: {egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8}}]}], policyTypes: [Ingress, Egress]}`},
		{"namespace untouched", "metadata: {name: a}\nspec: {}", "metadata: {name: a}\nspec: {policyTypes: [Ingress]}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, want := policy(tc.in), policy(tc.want)
			simulate.Default(&got)
			if diff := cmp.Diff(&want, &got); diff != "" {
				t.Errorf("Default (-want +got):\n%s", diff)
			}
			simulate.Default(&got)
			if diff := cmp.Diff(&want, &got); diff != "" {
				t.Errorf("Default twice (-want +got):\n%s", diff)
			}
		})
	}
	simulate.Default(nil) // a no-op
}
