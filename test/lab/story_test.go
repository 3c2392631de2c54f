package lab

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	yamlutil "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
)

// story is the demo application's cluster, as `netpol demo --export-story`
// writes it, turned into what the lab needs.
type story struct {
	objects   []runtime.Object // in file order
	pods      []*corev1.Pod    // sorted by "ns/name"
	services  []*corev1.Service
	endpoints []endpoint // the pods, then the externals
	probes    []probe    // every port in play
	dns       string     // the cluster DNS Service's ADDRESS:53
}

// endpoint is one network namespace of the lab: a pod, or an address
// outside the cluster.
type endpoint struct {
	id       string // ns/name; ext/name outside the cluster
	addr     netip.Addr
	prefix   int
	gateway  string
	workload string      // the graph's node: ns/workload, or the address outside
	matrix   string      // netpol matrix's name: ns/pod, or the address outside
	dnsName  string      // the name the cluster DNS gives an external
	dnsPod   bool        // answers DNS queries
	pod      *corev1.Pod // nil outside the cluster
}

// probe is a protocol and port.
type probe struct {
	proto string // TCP or UDP
	port  int
}

func (p probe) String() string { return p.proto + "/" + strconv.Itoa(p.port) }

// externals are the endpoints outside the cluster the demo talks to: the
// card provider that payments calls (by DNS name), and a client on the
// internet that calls the web frontend. They sit on the node's bridge like
// pods, routed through it, but have no Pod objects.
var externals = []endpoint{
	{id: "ext/card-provider", addr: netip.MustParseAddr("203.0.113.50"), prefix: 24, gateway: "203.0.113.1", dnsName: "api.payment-provider.example"},
	{id: "ext/internet-client", addr: netip.MustParseAddr("198.51.100.23"), prefix: 24, gateway: "198.51.100.1"},
}

// podGateway is the node's address on the pods' /16: the pods' default
// route, through which Service addresses and externals are reached.
const podGateway = "10.244.0.1"

// loadStory reads every manifest under dir/cluster.
func loadStory(t *testing.T, dir string) *story {
	t.Helper()
	s := &story{}
	files, err := filepath.Glob(filepath.Join(dir, "cluster", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s/cluster (err %v)", dir, err)
	}
	slices.Sort(files)
	decode := scheme.Codecs.UniversalDeserializer()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r := yamlutil.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
		for n := 1; ; n++ {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: document %d: %v", f, n, err)
			}
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			obj, _, err := decode.Decode(doc, nil, nil)
			if err != nil {
				t.Fatalf("%s: document %d: %v", f, n, err)
			}
			s.objects = append(s.objects, obj)
			switch o := obj.(type) {
			case *corev1.Pod:
				s.pods = append(s.pods, o)
			case *corev1.Service:
				s.services = append(s.services, o)
			}
		}
	}
	slices.SortFunc(s.pods, func(a, b *corev1.Pod) int { return strings.Compare(podID(a), podID(b)) })
	s.plan(t)
	return s
}

func podID(p *corev1.Pod) string { return p.Namespace + "/" + p.Name }

// workloadOf names a pod's workload as netpol's graph does: the Deployment
// of its ReplicaSet, its StatefulSet, or the pod itself.
func workloadOf(p *corev1.Pod) string {
	for _, o := range p.OwnerReferences {
		if o.Controller == nil || !*o.Controller {
			continue
		}
		switch o.Kind {
		case "ReplicaSet":
			if i := strings.LastIndexByte(o.Name, '-'); i > 0 {
				return p.Namespace + "/" + o.Name[:i]
			}
		case "StatefulSet", "DaemonSet", "Job":
			return p.Namespace + "/" + o.Name
		}
	}
	return podID(p)
}

// plan lays out the endpoints and the ports in play: every container port
// of every pod, and the ports the externals serve (443, the card
// provider's).
func (s *story) plan(t *testing.T) {
	t.Helper()
	dnsPods := map[string]bool{}
	for _, svc := range s.services {
		if svc.Namespace == "kube-system" && svc.Name == "kube-dns" {
			s.dns = svc.Spec.ClusterIP + ":53"
			for _, p := range s.backends(svc) {
				dnsPods[podID(p)] = true
			}
		}
	}
	if s.dns == "" || len(dnsPods) == 0 {
		t.Fatal("the story has no kube-system/kube-dns Service with pods")
	}
	seen := map[probe]bool{{"TCP", 443}: true}
	for _, p := range s.pods {
		a, err := netip.ParseAddr(p.Status.PodIP)
		if err != nil {
			t.Fatalf("pod %s: status.podIP %q: %v", podID(p), p.Status.PodIP, err)
		}
		s.endpoints = append(s.endpoints, endpoint{id: podID(p), addr: a, prefix: 16, gateway: podGateway,
			workload: workloadOf(p), matrix: podID(p), dnsPod: dnsPods[podID(p)], pod: p})
		for _, c := range p.Spec.Containers {
			for _, cp := range c.Ports {
				seen[probe{string(cp.Protocol), int(cp.ContainerPort)}] = true
			}
		}
	}
	for _, e := range externals {
		e.workload, e.matrix = e.addr.String(), e.addr.String()
		s.endpoints = append(s.endpoints, e)
	}
	for p := range seen {
		s.probes = append(s.probes, p)
	}
	slices.SortFunc(s.probes, func(a, b probe) int {
		if a.proto != b.proto {
			return strings.Compare(a.proto, b.proto)
		}
		return a.port - b.port
	})
}

// backends are the pods of svc's namespace its selector selects.
func (s *story) backends(svc *corev1.Service) []*corev1.Pod {
	if len(svc.Spec.Selector) == 0 {
		return nil
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	var out []*corev1.Pod
	for _, p := range s.pods {
		if p.Namespace == svc.Namespace && sel.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	return out
}

// targetPort resolves a Service port's targetPort on pod p.
func targetPort(sp corev1.ServicePort, p *corev1.Pod) (int, bool) {
	if sp.TargetPort.StrVal == "" {
		if sp.TargetPort.IntVal == 0 {
			return int(sp.Port), true
		}
		return int(sp.TargetPort.IntVal), true
	}
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == sp.TargetPort.StrVal && cp.Protocol == sp.Protocol {
				return int(cp.ContainerPort), true
			}
		}
	}
	return 0, false
}

// writeFiles writes the lab's endpoints file (every endpoint serves every
// port in play), the Services' DNAT file and the DNS records, and returns
// the paths of the first two.
func (s *story) writeFiles(t *testing.T, dir string) (podsFile, natFile string) {
	t.Helper()
	var records, nat, pods strings.Builder
	for _, svc := range s.services {
		if svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone {
			continue
		}
		fmt.Fprintf(&records, "%s.%s.svc.cluster.local %s\n", svc.Name, svc.Namespace, svc.Spec.ClusterIP)
		backends := s.backends(svc)
		if len(backends) == 0 {
			t.Fatalf("Service %s/%s selects no pod", svc.Namespace, svc.Name)
		}
		for _, sp := range svc.Spec.Ports {
			fmt.Fprintf(&nat, "%s %s %d", strings.ToLower(string(sp.Protocol)), svc.Spec.ClusterIP, sp.Port)
			for _, p := range backends {
				port, ok := targetPort(sp, p)
				if !ok {
					t.Fatalf("Service %s/%s: pod %s has no port %q", svc.Namespace, svc.Name, podID(p), sp.TargetPort.StrVal)
				}
				fmt.Fprintf(&nat, " %s:%d", p.Status.PodIP, port)
			}
			nat.WriteString("\n")
		}
	}
	for _, e := range externals {
		if e.dnsName != "" {
			fmt.Fprintf(&records, "%s %s\n", e.dnsName, e.addr)
		}
	}
	recordsFile := filepath.Join(dir, "dns-records")
	var tcp, udp []string
	for _, p := range s.probes {
		if p.proto == "TCP" {
			tcp = append(tcp, strconv.Itoa(p.port))
		} else {
			udp = append(udp, strconv.Itoa(p.port))
		}
	}
	for _, e := range s.endpoints {
		fmt.Fprintf(&pods, "%s %s/%d tcp=%s udp=%s gw=%s", e.id, e.addr, e.prefix, strings.Join(tcp, ","), strings.Join(udp, ","), e.gateway)
		if e.dnsPod {
			fmt.Fprintf(&pods, " dns=%s", recordsFile)
		}
		pods.WriteString("\n")
	}
	podsFile, natFile = filepath.Join(dir, "endpoints"), filepath.Join(dir, "services")
	for path, text := range map[string]string{recordsFile: records.String(), natFile: nat.String(), podsFile: pods.String()} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return podsFile, natFile
}

// create creates the story's objects on the API server, sets each pod's
// status (Running, its address) and returns the pods' resourceVersions.
func (s *story) create(t *testing.T, client *kubernetes.Clientset) map[string]string {
	t.Helper()
	ctx := t.Context()
	rvs := map[string]string{}
	opts := metav1.CreateOptions{}
	for _, obj := range s.objects {
		var err error
		switch o := obj.(type) {
		case *corev1.Namespace:
			_, err = client.CoreV1().Namespaces().Create(ctx, o, opts)
			if apierrors.IsAlreadyExists(err) && o.Name == "kube-system" {
				err = nil
			}
		case *corev1.Node:
			_, err = client.CoreV1().Nodes().Create(ctx, o, opts)
		case *appsv1.Deployment:
			_, err = client.AppsV1().Deployments(o.Namespace).Create(ctx, o, opts)
		case *appsv1.StatefulSet:
			_, err = client.AppsV1().StatefulSets(o.Namespace).Create(ctx, o, opts)
		case *corev1.Service:
			_, err = client.CoreV1().Services(o.Namespace).Create(ctx, o, opts)
		case *corev1.Pod:
			status := o.Status
			var got *corev1.Pod
			if got, err = client.CoreV1().Pods(o.Namespace).Create(ctx, o, opts); err == nil {
				got.Status = status
				got, err = client.CoreV1().Pods(o.Namespace).UpdateStatus(ctx, got, metav1.UpdateOptions{})
			}
			if err == nil {
				rvs[podID(o)] = got.ResourceVersion
			}
		default:
			t.Fatalf("the story holds a %T the lab does not create", obj)
		}
		if err != nil {
			t.Fatalf("creating %T: %v", obj, err)
		}
	}
	return rvs
}
