// Package recipes is netpol's catalogue of known-good NetworkPolicy
// patterns: deny all traffic to an application, deny all non-allowed
// traffic in a namespace, allow traffic from one namespace, allow DNS
// egress, default-deny with DNS, and the rest of the classic list.
//
// Each recipe is data: a YAML file embedded with go:embed that holds its
// metadata (name, what it does, when to use it, its parameters with their
// defaults) and a text/template that renders one or more
// networking.k8s.io/v1 NetworkPolicies. Parameters are typed (a label value,
// labels, ports, CIDRs...) and checked before rendering, and every value is
// written into the YAML as a quoted or plain scalar chosen so that it reads
// back as the same string: a value such as "yes", "on" or "010" cannot turn
// into a boolean or a number. Render decodes what it produced, strictly, so
// a recipe that renders anything but NetworkPolicies is an error.
//
// Each recipe also carries an example: parameters, other recipes applied
// with it, and its expected connectivity on a small fixed cluster, written as
// a default verdict followed by exceptions. The package's tests render every
// example, simulate it with package simulate and compare every connection
// with the table: a recipe is never printed and eyeballed. The fixed cluster
// has the namespaces shop (team=shop: pods web with ports http 8080/TCP and
// metrics 9090/TCP, api with http 8080/TCP, db with 5432/TCP), other
// (team=other: pods client, app=client, and monitor, app=prometheus and
// role=monitoring) and kube-system (pod coredns, k8s-app=kube-dns, with dns
// 53/UDP and dns-tcp 53/TCP), and two addresses outside the pods:
// 203.0.113.10, a client on the internet, and 172.18.0.2, the API server.
//
// The package does no I/O. It may import the standard library (no os, net,
// log), the netpol root package, the Kubernetes type modules and
// sigs.k8s.io/yaml; its tests may import simulate. It must not import
// generate or anything under internal/ (tests excepted: internal/netpoltest).
package recipes
