package simulate

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
)

// FieldError is one problem of an object, at one field.
type FieldError struct {
	// Field is the path of the field, as the API server spells it, with map
	// keys in brackets: "spec.ingress[0].from[1].ipBlock.cidr",
	// "metadata.labels[app]".
	Field string
	// Detail says what is wrong, quoting the offending value.
	Detail string
}

// Error returns "field: detail".
func (e *FieldError) Error() string { return e.Field + ": " + e.Detail }

// PolicyError is the error Validate returns: every problem of one
// NetworkPolicy, in field order.
type PolicyError struct {
	Namespace, Name string
	Problems        []*FieldError
}

// Error returns one line per problem, each starting with the policy:
// "NetworkPolicy shop/allow-web: spec.ingress[0].from[1].ipBlock.cidr:
// invalid CIDR \"10.0.0.0/33\"".
func (e *PolicyError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("NetworkPolicy ")
		if e.Namespace != "" {
			b.WriteString(e.Namespace + "/")
		}
		b.WriteString(e.Name + ": " + p.Error())
	}
	return b.String()
}

// Unwrap returns the problems, so that errors.As finds each *FieldError.
func (e *PolicyError) Unwrap() []error {
	out := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p
	}
	return out
}

// Validate checks a networking.k8s.io/v1 NetworkPolicy as the API server of
// Kubernetes v1.35 does on create (k8s.io/kubernetes
// pkg/apis/networking/validation, ValidateNetworkPolicy) and returns nil or a
// *PolicyError with every problem. Run Default first, as the API server
// does; Validate accepts a nil protocol too.
//
// It checks metadata.name (DNS-1123 subdomain), metadata.namespace (required,
// DNS-1123 label), metadata labels and annotation keys; every label selector
// (label keys and values, operators In, NotIn, Exists and DoesNotExist, values
// required by In and NotIn and forbidden otherwise); every peer (at least one
// of podSelector, namespaceSelector and ipBlock, and ipBlock alone); ipBlock
// cidr and except; ports (protocol TCP, UDP or SCTP; port 1-65535 or an
// IANA service name; endPort only after a numeric port, at least port, at
// most 65535); and policyTypes (Ingress or Egress, at most two).
//
// CIDRs get the API server's legacy validation, because the
// StrictIPCIDRValidation feature gate is alpha and off in v1.35: host bits
// are allowed ("10.0.0.1/24" means 10.0.0.0/24), as are leading zeros (read
// as decimal) and IPv4-mapped IPv6 addresses; see ParseIPBlockCIDR and
// Warnings. An except must be a strict subset of its cidr, which also
// rejects an except of the other IP family.
//
// Like the API server, Validate accepts a duplicate policy type
// ([Ingress, Ingress]), and it does not check owner references, finalizers or
// managed fields, which do not change connectivity.
func Validate(np *networkingv1.NetworkPolicy) error {
	if np == nil {
		return nil
	}
	var v policyValidator
	v.meta(&np.ObjectMeta)
	v.spec(&np.Spec)
	if len(v.problems) == 0 {
		return nil
	}
	return &PolicyError{Namespace: np.Namespace, Name: np.Name, Problems: v.problems}
}

// Warnings returns what the API server warns about, without rejecting it,
// when the policy is created: ipBlock values with host bits set, in a
// non-standard form (leading zeros, IPv4-mapped IPv6) or in a non-canonical
// IPv6 spelling. Each warning starts with its field path.
func Warnings(np *networkingv1.NetworkPolicy) []string {
	var out []string
	peers := func(dir string, i int, ps []networkingv1.NetworkPolicyPeer) {
		for j, p := range ps {
			if p.IPBlock == nil {
				continue
			}
			f := fmt.Sprintf("spec.%s[%d].%s[%d].ipBlock", dir, i, peerField(dir), j)
			out = append(out, cidrWarnings(f+".cidr", p.IPBlock.CIDR)...)
			for k, e := range p.IPBlock.Except {
				out = append(out, cidrWarnings(fmt.Sprintf("%s.except[%d]", f, k), e)...)
			}
		}
	}
	for i, r := range np.Spec.Ingress {
		peers("ingress", i, r.From)
	}
	for i, r := range np.Spec.Egress {
		peers("egress", i, r.To)
	}
	return out
}

func peerField(dir string) string {
	if dir == "ingress" {
		return "from"
	}
	return "to"
}

// ValidateLabels checks the keys and values of a label map (metadata.labels,
// a pod template's labels) as the API server does, in key order. field is
// the path of the map; each problem's path adds the key in brackets.
func ValidateLabels(field string, labels map[string]string) []*FieldError {
	var v policyValidator
	v.labels(field, labels)
	return v.problems
}

// ValidateSelector checks a label selector as the API server does
// (ValidateLabelSelector): label syntax, operators, and values. A nil
// selector is valid.
func ValidateSelector(field string, s *metav1.LabelSelector) []*FieldError {
	var v policyValidator
	v.selector(field, s)
	return v.problems
}

// policyValidator collects problems in field order.
type policyValidator struct{ problems []*FieldError }

func (v *policyValidator) add(field, format string, args ...any) {
	v.problems = append(v.problems, &FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
}

// addAll adds one problem per message of an apimachinery check, prefixed
// with what was checked: `invalid name "Foo": a lowercase RFC 1123 ...`.
func (v *policyValidator) addAll(field, what, value string, msgs []string) {
	for _, m := range msgs {
		v.add(field, "invalid %s %q: %s", what, value, m)
	}
}

func (v *policyValidator) meta(m *metav1.ObjectMeta) {
	if m.Name == "" {
		v.add("metadata.name", "required")
	} else {
		v.addAll("metadata.name", "name", m.Name, content.IsDNS1123Subdomain(m.Name))
	}
	if m.Namespace == "" {
		v.add("metadata.namespace", "required")
	} else {
		v.addAll("metadata.namespace", "namespace", m.Namespace, content.IsDNS1123Label(m.Namespace))
	}
	v.labels("metadata.labels", m.Labels)
	v.annotations("metadata.annotations", m.Annotations)
}

// labels checks the keys and values of a label map, in key order.
func (v *policyValidator) labels(field string, l map[string]string) {
	for _, k := range sortedLabelKeys(l) {
		f := field + "[" + k + "]"
		v.addAll(f, "label key", k, content.IsLabelKey(k))
		v.addAll(f, "label value", l[k], content.IsLabelValue(l[k]))
	}
}

// totalAnnotationSizeLimit is the API server's limit on the summed length of
// annotation keys and values (TotalAnnotationSizeLimitB).
const totalAnnotationSizeLimit = 256 * (1 << 10)

// annotations checks annotation keys (label-key syntax, any case) and their
// total size.
func (v *policyValidator) annotations(field string, a map[string]string) {
	total := 0
	for _, k := range sortedLabelKeys(a) {
		total += len(k) + len(a[k])
		v.addAll(field+"["+k+"]", "annotation key", k, content.IsLabelKey(strings.ToLower(k)))
	}
	if total > totalAnnotationSizeLimit {
		v.add(field, "too long: %d bytes, may not be more than %d", total, totalAnnotationSizeLimit)
	}
}

// selector checks a label selector (ValidateLabelSelector).
func (v *policyValidator) selector(field string, s *metav1.LabelSelector) {
	if s == nil {
		return
	}
	v.labels(field+".matchLabels", s.MatchLabels)
	for i, e := range s.MatchExpressions {
		f := fmt.Sprintf("%s.matchExpressions[%d]", field, i)
		switch e.Operator {
		case metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn:
			if len(e.Values) == 0 {
				v.add(f+".values", "required when operator is %s", e.Operator)
			}
		case metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist:
			if len(e.Values) > 0 {
				v.add(f+".values", "must be empty when operator is %s", e.Operator)
			}
		default:
			v.add(f+".operator", "invalid operator %q: must be In, NotIn, Exists or DoesNotExist", e.Operator)
		}
		v.addAll(f+".key", "label key", e.Key, content.IsLabelKey(e.Key))
		for j, val := range e.Values {
			v.addAll(fmt.Sprintf("%s.values[%d]", f, j), "label value", val, content.IsLabelValue(val))
		}
	}
}

func (v *policyValidator) spec(s *networkingv1.NetworkPolicySpec) {
	v.selector("spec.podSelector", &s.PodSelector)
	for i, r := range s.Ingress {
		f := fmt.Sprintf("spec.ingress[%d]", i)
		v.ports(f, r.Ports)
		for j := range r.From {
			v.peer(fmt.Sprintf("%s.from[%d]", f, j), &r.From[j])
		}
	}
	for i, r := range s.Egress {
		f := fmt.Sprintf("spec.egress[%d]", i)
		v.ports(f, r.Ports)
		for j := range r.To {
			v.peer(fmt.Sprintf("%s.to[%d]", f, j), &r.To[j])
		}
	}
	if len(s.PolicyTypes) > 2 {
		v.add("spec.policyTypes", "may not list more than two policy types, got %d", len(s.PolicyTypes))
		return
	}
	for i, t := range s.PolicyTypes {
		if t != networkingv1.PolicyTypeIngress && t != networkingv1.PolicyTypeEgress {
			v.add(fmt.Sprintf("spec.policyTypes[%d]", i), "unsupported policy type %q: must be Ingress or Egress", t)
		}
	}
}

func (v *policyValidator) ports(rule string, ports []networkingv1.NetworkPolicyPort) {
	for i := range ports {
		v.port(fmt.Sprintf("%s.ports[%d]", rule, i), &ports[i])
	}
}

// port checks one port (ValidateNetworkPolicyPort).
func (v *policyValidator) port(f string, p *networkingv1.NetworkPolicyPort) {
	if p.Protocol != nil {
		switch *p.Protocol {
		case corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
		default:
			v.add(f+".protocol", "unsupported protocol %q: must be TCP, UDP or SCTP", *p.Protocol)
		}
	}
	switch {
	case p.Port == nil:
		if p.EndPort != nil {
			v.add(f+".endPort", "may not be set without port")
		}
	case p.Port.Type == intstr.Int:
		for _, m := range validation.IsValidPortNum(int(p.Port.IntVal)) {
			v.add(f+".port", "invalid port %d: %s", p.Port.IntVal, m)
		}
		if p.EndPort != nil {
			if *p.EndPort < p.Port.IntVal {
				v.add(f+".endPort", "endPort %d is less than port %d", *p.EndPort, p.Port.IntVal)
			}
			for _, m := range validation.IsValidPortNum(int(*p.EndPort)) {
				v.add(f+".endPort", "invalid endPort %d: %s", *p.EndPort, m)
			}
		}
	default:
		if p.EndPort != nil {
			v.add(f+".endPort", "may not be set when port is the name %q", p.Port.StrVal)
		}
		v.addAll(f+".port", "port name", p.Port.StrVal, validation.IsValidPortName(p.Port.StrVal))
	}
}

// peer checks one peer (ValidateNetworkPolicyPeer).
func (v *policyValidator) peer(f string, p *networkingv1.NetworkPolicyPeer) {
	v.selector(f+".podSelector", p.PodSelector)
	v.selector(f+".namespaceSelector", p.NamespaceSelector)
	if p.IPBlock != nil {
		v.ipBlock(f+".ipBlock", p.IPBlock)
	}
	switch {
	case p.PodSelector == nil && p.NamespaceSelector == nil && p.IPBlock == nil:
		v.add(f, "must set podSelector, namespaceSelector or ipBlock")
	case p.IPBlock != nil && (p.PodSelector != nil || p.NamespaceSelector != nil):
		v.add(f, "ipBlock may not be combined with podSelector or namespaceSelector")
	}
}

// ipBlock checks cidr and except (ValidateIPBlock).
func (v *policyValidator) ipBlock(f string, b *networkingv1.IPBlock) {
	if b.CIDR == "" {
		v.add(f+".cidr", "required")
		return
	}
	cidr, ok := parseSloppyCIDR(b.CIDR)
	if !ok {
		v.add(f+".cidr", "invalid CIDR %q", b.CIDR)
		return
	}
	for i, e := range b.Except {
		ef := fmt.Sprintf("%s.except[%d]", f, i)
		except, ok := parseSloppyCIDR(e)
		switch {
		case !ok:
			v.add(ef, "invalid CIDR %q", e)
		case !cidr.strictlyContains(except):
			v.add(ef, "%q is not strictly inside cidr %q", e, b.CIDR)
		}
	}
}

func sortedLabelKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
