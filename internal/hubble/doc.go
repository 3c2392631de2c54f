// Package hubble is netpol's Hubble edge: it turns Cilium Hubble flows into
// netpol.Flow, live from Hubble Relay (NewRelaySource, gRPC
// Observer.GetFlows) or from files of `hubble observe -o json` output
// (NewFileSource, the live source's twin for tests and offline work). Both
// are netpol.FlowSource.
//
// One function, convertFlow, maps a flowpb.Flow to a netpol.Flow, for both
// sources. Its choices:
//
//   - Labels holds the pod's own labels: only the "k8s:" source, without
//     the keys Cilium adds (io.kubernetes.pod.namespace, which fills an
//     empty Namespace, and io.cilium.k8s.*: cluster, service account,
//     namespace labels), so that a podSelector can match them. Labels maps
//     are shared between flows of one identity and must not be modified.
//   - Reserved comes from "reserved:" labels, or from the fixed reserved
//     identity numbers when there are no labels; kube-apiserver wins over
//     host, remote-node and world; world-ipv4/-ipv6 are world; health,
//     init, ingress and unmanaged pass through under their own names.
//   - Workload is the first entry of the endpoint's workloads; Node is
//     the observing node for endpoints local to it (an endpoint ID, or the
//     host); Identity is the security identity.
//   - Reply is Yes or No from is_reply, else Yes from the legacy reply,
//     else Unknown (an old capture's reply=false looks like no value).
//   - Verdicts FORWARDED, DROPPED, AUDIT and REDIRECTED map to their
//     netpol values; ERROR, TRACED and TRANSLATED are unknown.
//   - TCP, UDP and SCTP carry ports; ICMPv4 and ICMPv6 are ProtocolICMP
//     without ports; other L4 and none are ProtocolUnknown.
//   - DNS comes from l7.dns (query without its trailing dot, answers), or
//     else from destination_names: the first name, answered by the
//     destination IP.
//   - Flows without IP addresses (ARP) are skipped as "non-ip".
//
// Files are decoded by a hand-written scanner that handles the shapes
// Hubble writes and hands anything else to protojson, which has the final
// word: both decoders give the same result on every line (TestDifferential,
// FuzzDecode), and the scanner is several times faster (BENCHMARKS.md).
//
// This package may import netpol, the cilium flow, observer and relay
// APIs, gRPC, protobuf and the standard library; it is the only package
// that imports the Cilium and gRPC modules.
package hubble
