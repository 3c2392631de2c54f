package scenario

import (
	"encoding/json"
	"fmt"
	"net"
	"strconv"
)

// The raw* types mirror the parts of a networking.k8s.io/v1 NetworkPolicy that
// the defaulting contract is about. Unknown fields are allowed here: the
// oracles decode the same bytes strictly into the real API types.
type rawPolicy struct {
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Spec struct {
		PolicyTypes []string   `json:"policyTypes"`
		Ingress     *[]rawRule `json:"ingress"`
		Egress      *[]rawRule `json:"egress"`
	} `json:"spec"`
}

type rawRule struct {
	Ports []rawPort `json:"ports"`
	From  []rawPeer `json:"from"`
	To    []rawPeer `json:"to"`
}

type rawPort struct {
	Protocol *string         `json:"protocol"`
	Port     json.RawMessage `json:"port"`
	EndPort  *int32          `json:"endPort"`
}

type rawPeer struct {
	PodSelector       json.RawMessage `json:"podSelector"`
	NamespaceSelector json.RawMessage `json:"namespaceSelector"`
	IPBlock           *struct {
		CIDR   string   `json:"cidr"`
		Except []string `json:"except"`
	} `json:"ipBlock"`
}

// validatePolicies checks that every policy has been defaulted the way the
// API server does it, and is valid where the oracles would otherwise panic or
// fail open: policyTypes present, every port protocol set, ingress/egress nil
// rather than empty, peers of one kind, parseable CIDRs and port ranges.
func validatePolicies(policies []json.RawMessage) []error {
	var errs []error
	seen := map[string]bool{}
	for i, raw := range policies {
		path := fmt.Sprintf("policies[%d]", i)
		var p rawPolicy
		if err := json.Unmarshal(raw, &p); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path, err))
			continue
		}
		md := p.Metadata
		id := md.Namespace + "/" + md.Name
		if md.Name == "" || md.Namespace == "" {
			errs = append(errs, fmt.Errorf("%s.metadata: name and namespace must be set", path))
		} else if seen[id] {
			errs = append(errs, fmt.Errorf("%s: duplicate policy %q", path, id))
		}
		seen[id] = true
		path = fmt.Sprintf("policy %q: spec", id)
		errs = append(errs, validatePolicyTypes(path, p.Spec.PolicyTypes)...)
		errs = append(errs, validateRules(path+".ingress", p.Spec.Ingress, true)...)
		errs = append(errs, validateRules(path+".egress", p.Spec.Egress, false)...)
	}
	return errs
}

func validatePolicyTypes(path string, types []string) []error {
	if len(types) == 0 {
		return []error{fmt.Errorf("%s.policyTypes: must be set (the input must be defaulted)", path)}
	}
	var errs []error
	seen := map[string]bool{}
	for i, t := range types {
		if t != "Ingress" && t != "Egress" {
			errs = append(errs, fmt.Errorf("%s.policyTypes[%d]: %q is not Ingress or Egress", path, i, t))
		} else if seen[t] {
			errs = append(errs, fmt.Errorf("%s.policyTypes[%d]: duplicate %q", path, i, t))
		}
		seen[t] = true
	}
	return errs
}

func validateRules(path string, rules *[]rawRule, ingress bool) []error {
	if rules == nil {
		return nil
	}
	if len(*rules) == 0 {
		return []error{fmt.Errorf("%s: empty list must be null (the API server drops it; knp would read it as allow-all)", path)}
	}
	var errs []error
	for i, r := range *rules {
		rpath := fmt.Sprintf("%s[%d]", path, i)
		for j, p := range r.Ports {
			errs = append(errs, validatePort(fmt.Sprintf("%s.ports[%d]", rpath, j), p)...)
		}
		peers, field := r.From, "from"
		other := len(r.To) > 0
		if !ingress {
			peers, field = r.To, "to"
			other = len(r.From) > 0
		}
		if other {
			errs = append(errs, fmt.Errorf("%s: ingress rules take from, egress rules take to", rpath))
		}
		for j, peer := range peers {
			errs = append(errs, validatePeer(fmt.Sprintf("%s.%s[%d]", rpath, field, j), peer)...)
		}
	}
	return errs
}

func validatePort(path string, p rawPort) []error {
	var errs []error
	if p.Protocol == nil {
		errs = append(errs, fmt.Errorf("%s.protocol: must be set (the input must be defaulted)", path))
	} else if !validProtocol(*p.Protocol) {
		errs = append(errs, fmt.Errorf("%s.protocol: %q is not TCP, UDP or SCTP", path, *p.Protocol))
	}
	number, named := 0, false
	if len(p.Port) > 0 && string(p.Port) != "null" {
		var name string
		if err := json.Unmarshal(p.Port, &name); err == nil {
			named = true
			if name == "" {
				errs = append(errs, fmt.Errorf("%s.port: named port must not be empty", path))
			} else if _, err := strconv.Atoi(name); err == nil {
				errs = append(errs, fmt.Errorf("%s.port: %q is a number in a string; use a JSON number", path, name))
			}
		} else if err := json.Unmarshal(p.Port, &number); err != nil || number < 1 || number > 65535 {
			errs = append(errs, fmt.Errorf("%s.port: %s is not a port name or a number from 1 to 65535", path, p.Port))
		}
	}
	if p.EndPort != nil {
		switch {
		case named || number == 0:
			errs = append(errs, fmt.Errorf("%s.endPort: needs a numeric port", path))
		case int(*p.EndPort) < number || *p.EndPort > 65535:
			errs = append(errs, fmt.Errorf("%s.endPort: %d is not from port %d to 65535", path, *p.EndPort, number))
		}
	}
	return errs
}

func validatePeer(path string, p rawPeer) []error {
	selectors := present(p.PodSelector) || present(p.NamespaceSelector)
	if p.IPBlock == nil {
		if !selectors {
			return []error{fmt.Errorf("%s: must set podSelector, namespaceSelector or ipBlock", path)}
		}
		return nil
	}
	if selectors {
		return []error{fmt.Errorf("%s: ipBlock cannot be combined with selectors", path)}
	}
	_, cidr, err := net.ParseCIDR(p.IPBlock.CIDR)
	if err != nil {
		return []error{fmt.Errorf("%s.ipBlock.cidr: invalid CIDR %q", path, p.IPBlock.CIDR)}
	}
	var errs []error
	for i, e := range p.IPBlock.Except {
		_, except, err := net.ParseCIDR(e)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s.ipBlock.except[%d]: invalid CIDR %q", path, i, e))
		case len(except.IP) != len(cidr.IP):
			errs = append(errs, fmt.Errorf("%s.ipBlock.except[%d]: %q is not the same IP family as %q", path, i, e, p.IPBlock.CIDR))
		}
	}
	return errs
}

func present(m json.RawMessage) bool { return len(m) > 0 && string(m) != "null" }
