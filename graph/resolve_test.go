package graph_test

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
	"github.com/netpol/netpol/internal/netpoltest"
)

// testSnapshot is a small cluster with one pod per kind of owner chain,
// two nodes and two Services.
func testSnapshot() *netpol.Snapshot {
	hostnet := netpoltest.Pod("shop/hostnet", "", "", "")
	hostnet.Spec.HostNetwork, hostnet.Spec.NodeName = true, "n1"
	hostnet.Status.HostIP = "192.168.1.10"
	node := func(name, ip string) corev1.Node {
		return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name},
			Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}}}}
	}
	svc := func(name, ip string, port int32, target intstr.IntOrString, selector string) corev1.Service {
		return corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name}, Spec: corev1.ServiceSpec{
			ClusterIP: ip, Selector: netpoltest.Labels(selector),
			Ports: []corev1.ServicePort{{Name: "web", Protocol: corev1.ProtocolTCP, Port: port, TargetPort: target}}}}
	}
	port, name := int32(9080), "web"
	slice := discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "reviews-abc", Labels: map[string]string{discoveryv1.LabelServiceName: "reviews"}},
		Ports:      []discoveryv1.EndpointPort{{Name: &name, Port: &port}},
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"10.0.1.1"}, TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: "reviews-v1-545db77b95-s6jb8"}},
			{Addresses: []string{"10.0.1.2"}, TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: "reviews-v2-7bf8c9648f-7xk2q"}},
			{Addresses: []string{"10.0.0.2"}},
		},
	}
	return &netpol.Snapshot{
		Nodes: []corev1.Node{node("n1", "192.168.1.10"), node("n2", "192.168.1.11")},
		Pods: []corev1.Pod{
			owned(netpoltest.Pod("shop/web-5d7f8c9b6-x2x4z", "app=web,pod-template-hash=5d7f8c9b6", "10.0.0.1", ""), "ReplicaSet/web-5d7f8c9b6"),
			owned(netpoltest.Pod("shop/db-0", "app=db", "10.0.0.2", ""), "StatefulSet/db"),
			owned(netpoltest.Pod("shop/agent-k2m9p", "app=agent", "10.0.0.3", ""), "DaemonSet/agent"),
			owned(netpoltest.Pod("shop/report-28641600-q7w2z", "app=report", "10.0.0.4", ""), "Job/report-28641600"),
			netpoltest.Pod("shop/debug", "app=debug", "10.0.0.5", ""),
			owned(netpoltest.Pod("shop/api-7c9b6d5f4-qwrtz", "app=api,pod-template-hash=7c9b6d5f4", "10.0.0.6", ""), "ReplicaSet/api-7c9b6d5f4"),
			owned(netpoltest.Pod("shop/migrate-x9z8k", "", "10.0.0.7", ""), "Job/migrate"),
			hostnet,
		},
		Workloads: []netpol.Workload{
			workload("Deployment:shop/web", "", "app=web"),
			workload("ReplicaSet:shop/web-5d7f8c9b6", "Deployment/web", "app=web"),
			workload("StatefulSet:shop/db", "", "app=db"),
			workload("CronJob:shop/report", "", "app=report"),
			workload("Job:shop/report-28641600", "CronJob/report", "app=report"),
			workload("Deployment:shop/cart", "", "app=cart", corev1.ContainerPort{Name: "http", ContainerPort: 8080}),
		},
		Services: []corev1.Service{
			svc("cart", "10.96.0.10", 80, intstr.FromString("http"), "app=cart"),
			svc("reviews", "10.96.0.20", 9080, intstr.FromInt32(9080), ""),
		},
		EndpointSlices: []discoveryv1.EndpointSlice{slice},
	}
}

func TestResolverEndpoint(t *testing.T) {
	r := graph.NewResolver(testSnapshot())
	hubbleWorkload := ep("shop/reviews-v3-84779c7bbc-bm9mr@10.0.1.3:9080")
	hubbleWorkload.Workload = netpol.WorkloadRef{Kind: "Deployment", Name: "reviews-v3"}
	for _, tc := range []struct {
		name     string
		ep       netpol.FlowEndpoint
		observer string
		want     graph.Node
		outcome  graph.Outcome
	}{
		{"deployment via replicaset", ep("shop/web-5d7f8c9b6-x2x4z@10.0.0.1:41000"), "", deploy("shop/web"), graph.Resolved},
		{"statefulset", ep("shop/db-0@10.0.0.2:5432"), "", node(graph.KindStatefulSet, "shop/db"), graph.Resolved},
		{"daemonset", ep("shop/agent-k2m9p"), "", node(graph.KindDaemonSet, "shop/agent"), graph.Resolved},
		{"cronjob via job", ep("shop/report-28641600-q7w2z"), "", node(graph.KindCronJob, "shop/report"), graph.Resolved},
		{"bare pod", ep("shop/debug@10.0.0.5:80"), "", pod("shop/debug"), graph.Resolved},
		{"replicaset missing from snapshot", ep("shop/api-7c9b6d5f4-qwrtz"), "", deploy("shop/api"), graph.Resolved},
		{"job without cronjob", ep("shop/migrate-x9z8k"), "", node(graph.KindJob, "shop/migrate"), graph.Resolved},
		{"hubble workload", hubbleWorkload, "", deploy("shop/reviews-v3"), graph.Resolved},
		{"pattern deployment label", ep("shop/front-6b8f9c7d5-k2m9p{pod-template-hash=6b8f9c7d5}"), "", deploy("shop/front"), graph.Resolved},
		{"pattern deployment wrong hash", ep("shop/back-6b8f9c7d5-k2m9p{pod-template-hash=zzz}"), "", pod("shop/back-6b8f9c7d5-k2m9p"), graph.Resolved},
		{"pattern deployment no labels", ep("shop/front-6b8f9c7d5-k2m9p"), "", deploy("shop/front"), graph.Resolved},
		{"pattern deployment hubble labels", ep("shop/side-6b8f9c7d5-k2m9p{app=side}"), "", deploy("shop/side"), graph.Resolved},
		{"pattern deployment short hash confirmed", ep("shop/tiny-b2-k2m9p{pod-template-hash=b2}"), "", deploy("shop/tiny"), graph.Resolved},
		{"pattern deployment short hash no labels", ep("shop/x-b2-k2m9p"), "", pod("shop/x-b2-k2m9p"), graph.Resolved},
		{"pattern statefulset label", ep("shop/cache-1{statefulset.kubernetes.io/pod-name=cache-1}"), "", node(graph.KindStatefulSet, "shop/cache"), graph.Resolved},
		{"pattern statefulset index label", ep("shop/cache-12{apps.kubernetes.io/pod-index=12}"), "", node(graph.KindStatefulSet, "shop/cache"), graph.Resolved},
		{"ordinal without confirmation", ep("shop/store-1"), "", pod("shop/store-1"), graph.Resolved},
		{"ordinal confirmed by snapshot", ep("shop/db-3"), "", node(graph.KindStatefulSet, "shop/db"), graph.Resolved},
		{"pattern daemonset", ep("kube-system/cilium-x7k2p{pod-template-generation=1,controller-revision-hash=5f4b}"), "", node(graph.KindDaemonSet, "kube-system/cilium"), graph.Resolved},
		{"generated suffix alone", ep("kube-system/agent-x7k2p{app=agent}"), "", pod("kube-system/agent-x7k2p"), graph.Resolved},
		{"pattern cronjob", ep("shop/backup-28560000-zp4xq{job-name=backup-28560000}"), "", node(graph.KindCronJob, "shop/backup"), graph.Resolved},
		{"job named by date", ep("shop/nightly-20240101-zp4xq{batch.kubernetes.io/job-name=nightly-20240101}"), "", node(graph.KindJob, "shop/nightly-20240101"), graph.Resolved},
		{"job in the future", ep("shop/later-99999999-zp4xq{job-name=later-99999999}"), "", node(graph.KindJob, "shop/later-99999999"), graph.Resolved},
		{"pod address", ep("@10.0.0.2:5432"), "", node(graph.KindStatefulSet, "shop/db"), graph.Resolved},
		{"mapped pod address", ep("@[::ffff:10.0.0.2]:5432"), "", node(graph.KindStatefulSet, "shop/db"), graph.Resolved},
		{"own node address", ep("@192.168.1.10:10250"), "n1", reserved(netpol.ReservedHost), graph.Resolved},
		{"other node address", ep("@192.168.1.10:10250"), "n2", reserved(netpol.ReservedRemoteNode), graph.Resolved},
		{"node address without observer", ep("@192.168.1.11:10250"), "", reserved(netpol.ReservedRemoteNode), graph.Resolved},
		{"reserved host", ep("reserved:host@10.0.2.1:0"), "", reserved(netpol.ReservedHost), graph.Resolved},
		{"world with address", ep("reserved:world@203.0.113.7:443"), "", external("203.0.113.7"), graph.Resolved},
		{"world without address", ep("reserved:world"), "", reserved(netpol.ReservedWorld), graph.Resolved},
		{"apiserver", ep("reserved:kube-apiserver@10.0.0.100:443"), "", reserved(netpol.ReservedKubeAPIServer), graph.Resolved},
		{"external address", ep("@203.0.113.9:443"), "", external("203.0.113.9"), graph.Resolved},
		{"labels without pod", ep("shop/{app=x}@10.0.9.9:80"), "", graph.Node{}, graph.Pending},
		{"labels of one workload", ep("shop/#777{app=cart}@10.0.9.9:80"), "", deploy("shop/cart"), graph.Resolved},
		{"labels of one workload's pods", ep("shop/{app=web}@10.0.9.9:80"), "", deploy("shop/web"), graph.Resolved},
		{"labels of a cronjob's pods and template", ep("shop/{app=report}@10.0.9.9:80"), "", node(graph.KindCronJob, "shop/report"), graph.Resolved},
		{"labels in another namespace", ep("billing/{app=cart}@10.0.9.9:80"), "", graph.Node{}, graph.Pending},
		{"identity without pod", ep("#4242@10.0.9.9:80"), "", graph.Node{}, graph.Pending},
		{"reserved identity number", ep("#2@10.0.9.9:80"), "", external("10.0.9.9"), graph.Resolved},
		{"cidr identity", ep("#16777217@10.0.9.9:80"), "", external("10.0.9.9"), graph.Resolved},
		{"nothing", ep(""), "", graph.Node{}, graph.Unresolvable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, outcome := r.Endpoint(&tc.ep, tc.observer, t0)
			if outcome != tc.outcome {
				t.Errorf("outcome = %v, want %v", outcome, tc.outcome)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("node (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolverService(t *testing.T) {
	r := graph.NewResolver(testSnapshot())
	for _, tc := range []struct {
		name string
		ip   string
		port uint16
		want []graph.Target
		ok   bool
	}{
		{"named target port on a template", "10.96.0.10", 80, []graph.Target{{deploy("shop/cart"), 8080}}, true},
		{"unknown service port kept", "10.96.0.10", 81, []graph.Target{{deploy("shop/cart"), 81}}, true},
		{"slices with several workloads", "10.96.0.20", 9080, []graph.Target{
			{node(graph.KindStatefulSet, "shop/db"), 9080}, {deploy("shop/reviews-v1"), 9080}, {deploy("shop/reviews-v2"), 9080}}, true},
		{"not a service", "10.0.0.1", 80, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := r.Service(netip.MustParseAddr(tc.ip), netpol.ProtocolTCP, tc.port, t0)
			if ok != tc.ok {
				t.Errorf("ok = %v, want %v", ok, tc.ok)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("targets (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolverLearn(t *testing.T) {
	r := graph.NewResolver(nil)
	pending := ep("shop/#4242{app=cart}@10.0.3.3:8080")
	if _, o := r.Endpoint(&pending, "", t0); o != graph.Pending {
		t.Fatalf("before learning: outcome %v, want Pending", o)
	}
	known := ep("shop/cart-6b8f9c7d5-k2m9p#4242{pod-template-hash=6b8f9c7d5}@10.0.3.3:41000")
	n, _ := r.Endpoint(&known, "", t0)
	r.Learn(&known, n)
	for _, e := range []netpol.FlowEndpoint{pending, ep("#4242@10.0.3.4:8080"), ep("@10.0.3.3:80")} {
		if got, o := r.Endpoint(&e, "", t0); o != graph.Resolved || got != deploy("shop/cart") {
			t.Errorf("after learning %+v: %v %v, want Resolved shop/cart", e, got, o)
		}
	}
	other := ep("shop/other-6b8f9c7d5-k2m9p#4242{pod-template-hash=6b8f9c7d5}@10.0.3.5:41000")
	n, _ = r.Endpoint(&other, "", t0)
	r.Learn(&other, n)
	if _, ok := r.Learned(netip.MustParseAddr("10.0.3.9"), 4242); ok {
		t.Errorf("an identity seen with two workloads still resolves")
	}
}

func TestResolverLabelsAmbiguous(t *testing.T) {
	s := testSnapshot()
	s.Workloads = append(s.Workloads, workload("Deployment:shop/cart-canary", "", "app=cart,track=canary"))
	r := graph.NewResolver(s)
	for _, tc := range []struct {
		ep   string
		want graph.Node
	}{
		{"shop/#801{app=cart}@10.0.9.9:80", graph.Node{}},
		{"shop/#802{app=cart,track=canary}@10.0.9.9:80", deploy("shop/cart-canary")},
	} {
		e := ep(tc.ep)
		if got, _ := r.Endpoint(&e, "", t0); got != tc.want {
			t.Errorf("Endpoint(%s) = %v, want %v", tc.ep, got, tc.want)
		}
	}
}
