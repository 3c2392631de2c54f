package audit

// check is a Check with the function that runs it.
type check struct {
	Check
	run func(a *auditor, c *check)
}

// checks are every check, in the order of Checks.
var checks = []*check{
	{Check{"no-default-deny-ingress", "Namespace without a default-deny for ingress", Medium,
		"Without a policy that selects every pod of the namespace for ingress, every pod that no other policy selects, " +
			"and every pod deployed later, accepts connections from any pod of the cluster and any address that can route to it."},
		checkDefaultDenyIngress},
	{Check{"no-default-deny-egress", "Namespace without a default-deny for egress", Low,
		"Without a policy that selects every pod of the namespace for egress, a compromised pod can reach anything: " +
			"the internet, the cloud metadata service, the API server and every other namespace."},
		checkDefaultDenyEgress},
	{Check{"pod-not-isolated", "Pod selected by no ingress policy", Medium,
		"A pod that no policy selects for ingress is not isolated: any pod of any namespace, and any address that can route " +
			"to it, may connect to any of its ports."},
		checkPodNotIsolated},
	{Check{"policy-selects-nothing", "Policy that selects no pod", Low,
		"A policy whose podSelector matches no pod has no effect: usually a label typo, so the pods it was written for " +
			"are not protected as intended."},
		checkSelectsNothing},
	{Check{"rule-allows-any-peer", "Rule without peers: every source or destination", Medium,
		"A rule with no from (or to) allows every pod of every namespace and every address, on its ports: " +
			"it usually undoes the default-deny it was meant to open a small hole in."},
		checkAnyPeer},
	{Check{"rule-allows-all-namespaces", "Rule that allows every namespace", Medium,
		"An empty namespaceSelector matches every namespace, present and future, including those of other teams and of " +
			"untrusted workloads."},
		checkAllNamespaces},
	{Check{"rule-allows-all-addresses", "Rule that allows 0.0.0.0/0 or ::/0", Medium,
		"An ipBlock of 0.0.0.0/0 or ::/0 allows every address: the whole internet and, where ipBlock matches pod " +
			"addresses, every pod of the cluster."},
		checkAllAddresses},
	{Check{"egress-to-metadata", "Egress allowed to the cloud metadata address", High,
		"169.254.169.254 serves the node's cloud credentials and instance data: a pod that reaches it can often act as " +
			"the node in the cloud account."},
		checkMetadata},
	{Check{"egress-to-etcd", "Egress allowed to etcd ports on the nodes", High,
		"etcd (2379-2380/TCP) holds every object of the cluster, Secrets included; no workload should reach it."},
		checkEtcd},
	{Check{"egress-to-api-server", "Egress allowed to the API server", Medium,
		"A pod that reaches the API server can use its service account token, and any token it steals, against the " +
			"cluster; allow it only to the workloads that call the API."},
		checkAPIServer},
	{Check{"egress-to-node-ports", "Egress allowed to node ports", Medium,
		"Node ports (30000-32767) on the node addresses expose Services outside their policies' intent; pods should " +
			"reach Services through their ClusterIP."},
		checkNodePorts},
	{Check{"dns-egress-denied", "Pods whose egress policies deny DNS", High,
		"Pods that cannot reach the cluster DNS on 53/UDP cannot resolve any name: the workloads of the namespace will " +
			"fail as soon as the policy is applied."},
		checkDNS},
	{Check{"named-port-unresolved", "Named port that resolves on no pod", Medium,
		"A named port allows only pods that declare a container port of that name and protocol; where none does, the " +
			"rule allows nothing, which is usually a typo that breaks traffic."},
		checkNamedPorts},
	{Check{"rule-shadowed", "Rule shadowed by a broader one", Low,
		"Every connection the rule allows is also allowed by a broader rule of a policy that selects the same pods: " +
			"the rule changes nothing, and the broader rule may allow more than its authors think."},
		checkShadowed},
}

// Checks returns every check of the audit, in the order they run.
func Checks() []Check {
	out := make([]Check, len(checks))
	for i, c := range checks {
		out[i] = c.Check
	}
	return out
}
