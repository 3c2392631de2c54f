package generate

import (
	"net/netip"
	"time"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
)

// Labels and annotations of the generated policies.
const (
	// ManagedByLabel marks a generated policy: app.kubernetes.io/managed-by
	// = netpol. A policy of the cluster with this label and the name of a
	// generated one is replaced by it; any other policy of that name makes
	// the generated one take another name.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// ManagedByValue is the value of ManagedByLabel.
	ManagedByValue = "netpol"
	// EvidencePrefix prefixes the annotation of each rule's evidence:
	// evidence.netpol.dev/ingress-0, evidence.netpol.dev/egress-1, ...
	EvidencePrefix = "evidence.netpol.dev/"
	// WindowAnnotation holds the learning window of the policy's
	// namespace: "first/last" in RFC 3339.
	WindowAnnotation = "netpol.dev/learning-window"
	// WorkloadAnnotation names the workload a policy is for: "Deployment
	// shop/cart".
	WorkloadAnnotation = "netpol.dev/workload"
	// NoteAnnotation says what a reader of the policy should know: address
	// blocks standing for nodes or the API server, a selector that is not
	// exact.
	NoteAnnotation = "netpol.dev/note"
)

// Result is what Policies generated, with what a report needs.
type Result struct {
	// Policies are the generated NetworkPolicies, sorted by namespace,
	// then default-deny, allow-dns, allow-dns-from-cluster and the
	// workloads' policies by name. They are defaulted and valid.
	Policies []networkingv1.NetworkPolicy
	// Namespaces says, for each namespace generated for, what was found and
	// written; sorted by name.
	Namespaces []Namespace
	// DNS is the cluster DNS that allow-dns lets every pod reach.
	DNS DNS
	// Notes are what could not be expressed or found, sorted.
	Notes []Note
	// plans are the policies before rendering, in the order of Policies.
	plans []*policyPlan
}

// Namespace is the report of one namespace.
type Namespace struct {
	Name string
	// Window is the namespace's learning window; zero when the learning
	// never observed it.
	Window graph.Window
	// Idle is set when none of its workloads saw traffic in the learning
	// window.
	Idle bool
	// Policed is set when policies isolate its pods: it is not idle, or it
	// is and Options.LockIdle asked for a default deny.
	Policed bool
	// Workloads are its workloads, sorted.
	Workloads []Workload
}

// Workload is the report of one workload.
type Workload struct {
	Node graph.Node
	// Policy is the name of its policy; empty when it has none (it saw no
	// traffic besides DNS, or policies cannot select it).
	Policy string
	// Selector is its podSelector's matchLabels.
	Selector map[string]string
	// Exact is set when Selector selects exactly its pods in the namespace.
	Exact bool
	// Idle is set when it saw no traffic other than DNS.
	Idle bool
	// Rules are the evidence of its policy's rules, in policy order.
	Rules []Rule
}

// Rule is the evidence of one rule of a policy.
type Rule struct {
	// Direction is "ingress" or "egress"; Index is the rule's index in
	// that direction of the policy.
	Direction string
	Index     int
	Evidence  []Evidence
}

// Evidence is what was observed between a peer and a workload on one
// port: the connections that a rule allows because they were seen.
type Evidence struct {
	// Peer is the other end: "namespace/name", an address, or an identity
	// ("kube-apiserver", "host", "remote-node", "world").
	Peer      string
	Probe     netpol.Probe
	Count     int64
	FirstSeen time.Time
	LastSeen  time.Time
}

// DNS is the cluster DNS as Policies found it: in the snapshot (the kube-dns
// Service, its selector and target ports as they really are) or, without
// one, in the flows (the workloads that answered port 53).
type DNS struct {
	// Source says where it was found: "Service kube-system/kube-dns",
	// "flows"; empty when no cluster DNS was found.
	Source string
	// Namespace is the namespace of its pods.
	Namespace string
	// Selectors are the podSelectors of its pods, one per set of pods
	// (the Service's selector, or one per workload found in the flows).
	Selectors []map[string]string
	// Ports are the ports its pods listen on, UDP and TCP.
	Ports []netpol.Probe
	// Addresses are DNS addresses that are not selectable pods: the DNS
	// Service's addresses (NodeLocal DNSCache answers on them without
	// translation), link-local NodeLocal DNSCache addresses seen in the
	// flows, backends on the host network or outside the cluster. They are
	// reached on port 53.
	Addresses []netip.Addr
	// Workloads are the workloads of its pods.
	Workloads []graph.Node
	// front are the Addresses reached on port 53 itself: the Service's
	// and the link-local ones; the others are backends, reached on Ports.
	front []netip.Addr
}

// Found reports whether a cluster DNS was found.
func (d DNS) Found() bool { return d.Source != "" }

// Note is something Policies could not express or find.
type Note struct {
	// Namespace is the namespace concerned, empty for the whole cluster.
	Namespace string
	// Subject is the workload, peer or connection concerned.
	Subject string
	Message string
}
