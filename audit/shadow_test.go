package audit_test

import (
	"testing"
)

func TestNamedPorts(t *testing.T) {
	runCases(t, "named-port-unresolved", []checkCase{
		{"resolves", cluster(np("shop/p", "{podSelector: {matchLabels: {app: web}}, ingress: [{ports: [{port: http}]}]}")), nil},
		{"typo", cluster(np("shop/p", "{podSelector: {matchLabels: {app: web}}, ingress: [{ports: [{port: 80}, {port: htpp}]}]}")),
			[]string{"medium NetworkPolicy shop/p spec.ingress[0].ports[1].port"}},
		{"wrong protocol", cluster(np("shop/p", "{podSelector: {}, ingress: [{ports: [{port: http, protocol: UDP}]}]}")),
			[]string{"medium NetworkPolicy shop/p spec.ingress[0].ports[0].port"}},
		{"on one of the pods", cluster(np("shop/p", "{podSelector: {}, ingress: [{ports: [{port: http}]}]}")), nil},
		{"egress resolves", cluster(np("other/p", "{podSelector: {}, policyTypes: [Egress], egress: [{to: [{namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}], ports: [{port: dns, protocol: UDP}]}]}")), nil},
		{"egress elsewhere", cluster(np("other/p", "{podSelector: {}, policyTypes: [Egress], egress: [{to: [{namespaceSelector: {}, podSelector: {matchLabels: {app: api}}}], ports: [{port: http}]}]}")),
			[]string{"medium NetworkPolicy other/p spec.egress[0].ports[0].port"}},
		{"egress any peer", cluster(np("other/p", "{podSelector: {}, policyTypes: [Egress], egress: [{ports: [{port: http}]}]}")), nil},
		{"selects nothing", cluster(np("shop/p", "{podSelector: {matchLabels: {app: none}}, ingress: [{ports: [{port: htpp}]}]}")), nil},
	})
}

func TestShadowed(t *testing.T) {
	runCases(t, "rule-shadowed", []checkCase{
		{"broader policy", cluster(
			np("shop/all", "{podSelector: {}, ingress: [{from: [{podSelector: {}}]}]}"),
			np("shop/web", "{podSelector: {matchLabels: {app: web}}, ingress: [{from: [{podSelector: {matchLabels: {app: api}}}]}]}")),
			[]string{"low NetworkPolicy shop/web spec.ingress[0]"}},
		{"fewer pods selected", cluster(
			np("shop/web", "{podSelector: {matchLabels: {app: web}}, ingress: [{from: [{podSelector: {}}]}]}"),
			np("shop/all", "{podSelector: {}, ingress: [{from: [{podSelector: {matchLabels: {app: api}}}]}]}")), nil},
		{"equal rules: the later one", cluster(
			np("shop/a", "{podSelector: {}, ingress: [{from: [{podSelector: {matchLabels: {app: api}}}]}]}"),
			np("shop/b", "{podSelector: {}, ingress: [{from: [{podSelector: {matchLabels: {app: api}}}]}]}")),
			[]string{"low NetworkPolicy shop/b spec.ingress[0]"}},
		{"same policy", cluster(
			np("shop/a", "{podSelector: {}, ingress: [{ports: [{port: 80, endPort: 90}]}, {ports: [{port: 85}]}, {ports: [{port: 85, protocol: UDP}]}]}")),
			[]string{"low NetworkPolicy shop/a spec.ingress[1]"}},
		{"ports not covered", cluster(
			np("shop/a", "{podSelector: {}, ingress: [{ports: [{port: 8080}, {port: 9090}]}, {ports: [{port: 8080}, {port: 9091}]}]}")), nil},
		{"ports covered", cluster(
			np("shop/a", "{podSelector: {}, ingress: [{ports: [{port: 8080}]}, {ports: [{port: 8080}, {port: 9090}]}]}")),
			[]string{"low NetworkPolicy shop/a spec.ingress[0]"}},
		{"named port", cluster(
			np("shop/a", "{podSelector: {}, ingress: [{ports: [{port: http}]}, {ports: [{port: http}], from: [{podSelector: {}}]}, {ports: [{port: 8080}]}]}")),
			[]string{"low NetworkPolicy shop/a spec.ingress[1]"}},
		{"ip blocks", cluster(
			np("shop/a", "{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]}, {from: [{ipBlock: {cidr: 10.2.0.0/16}}]}, {from: [{ipBlock: {cidr: 10.1.2.0/24}}]}, {from: [{ipBlock: {cidr: 10.0.0.0/9, except: [10.1.0.0/17]}}]}]}")),
			[]string{"low NetworkPolicy shop/a spec.ingress[1]"}},
		{"except inside the other's except", cluster(
			np("shop/a", "{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/17]}}]}, {from: [{ipBlock: {cidr: 10.0.0.0/9, except: [10.1.0.0/16]}}]}]}")),
			[]string{"low NetworkPolicy shop/a spec.ingress[1]"}},
		{"ipBlock never covers selectors", cluster(
			np("shop/a", "{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 0.0.0.0/0}}]}, {from: [{podSelector: {}}]}]}")), nil},
		{"all namespaces cover one", cluster(
			np("shop/a", "{podSelector: {}, ingress: [{from: [{namespaceSelector: {}}]}, {from: [{namespaceSelector: {matchLabels: {team: x}}, podSelector: {matchLabels: {app: y}}}]}, {from: [{podSelector: {matchLabels: {app: z}}}]}]}")),
			[]string{"low NetworkPolicy shop/a spec.ingress[1]", "low NetworkPolicy shop/a spec.ingress[2]"}},
		{"namespace by name covers its own pods", cluster(
			np("shop/a", "{podSelector: {}, ingress: [{from: [{namespaceSelector: {matchLabels: {team: shop}}}]}, {from: [{podSelector: {matchLabels: {app: z}}}]}]}"),
			np("shop/b", "{podSelector: {}, ingress: [{from: [{namespaceSelector: {matchLabels: {team: other}}}]}]}")),
			[]string{"low NetworkPolicy shop/a spec.ingress[1]"}},
		{"selector subset", cluster(
			np("shop/a", "{podSelector: {}, ingress: [{from: [{podSelector: {matchLabels: {app: z}}}]}, {from: [{podSelector: {matchLabels: {app: z, tier: db}}}]}, {from: [{podSelector: {matchExpressions: [{key: app, operator: In, values: [z]}]}}]}]}")),
			[]string{"low NetworkPolicy shop/a spec.ingress[1]", "low NetworkPolicy shop/a spec.ingress[2]"}},
		{"union is not claimed", cluster(
			np("shop/a", "{podSelector: {}, ingress: [{from: [{podSelector: {matchLabels: {app: a}}}]}, {from: [{podSelector: {matchLabels: {app: b}}}]}, {from: [{podSelector: {matchLabels: {app: a}}}, {podSelector: {matchLabels: {app: b}}}]}]}")),
			[]string{"low NetworkPolicy shop/a spec.ingress[0]", "low NetworkPolicy shop/a spec.ingress[1]"}},
		{"other direction", cluster(
			np("shop/a", "{podSelector: {}, policyTypes: [Ingress, Egress], ingress: [{}], egress: [{to: [{podSelector: {}}]}]}")), nil},
		{"egress", cluster(
			np("shop/a", "{podSelector: {}, policyTypes: [Egress], egress: [{}]}"),
			np("shop/b", "{podSelector: {matchLabels: {app: web}}, policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: 1.2.3.4/32}}]}]}")),
			[]string{"low NetworkPolicy shop/b spec.egress[0]"}},
		{"other namespace", cluster(
			np("other/a", "{podSelector: {}, ingress: [{}]}"),
			np("shop/b", "{podSelector: {}, ingress: [{from: [{podSelector: {}}]}]}")), nil},
		{"egress policy does not isolate ingress", cluster(
			np("shop/a", "{podSelector: {}, policyTypes: [Egress], ingress: [{}]}"),
			np("shop/b", "{podSelector: {}, ingress: [{from: [{podSelector: {}}]}]}")), nil},
	})
}
