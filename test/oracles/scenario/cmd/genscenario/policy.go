package main

import "fmt"

func (g *gen) policy(i int) obj {
	ns := fmt.Sprintf("ns-%d", g.r.IntN(g.o.namespaces))
	spec := obj{"podSelector": g.selector(true)}
	var types []string
	if g.chance(0.7) {
		types = append(types, "Ingress")
		if rules := g.rules("from"); rules != nil {
			spec["ingress"] = rules
		}
	}
	if len(types) == 0 || g.chance(0.4) {
		types = append(types, "Egress")
		if rules := g.rules("to"); rules != nil {
			spec["egress"] = rules
		}
	}
	spec["policyTypes"] = types
	return obj{
		"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
		"metadata": obj{"namespace": ns, "name": fmt.Sprintf("np-%d", i)},
		"spec":     spec,
	}
}

// rules returns nil (deny all) about a fifth of the time, otherwise 1-3 rules.
func (g *gen) rules(peerField string) []obj {
	if g.chance(0.2) {
		return nil
	}
	var rules []obj
	for range 1 + g.r.IntN(3) {
		rule := obj{}
		if g.chance(0.7) {
			rule["ports"] = g.ports()
		}
		if g.chance(0.85) {
			var peers []obj
			for range 1 + g.r.IntN(2) {
				peers = append(peers, g.peer())
			}
			rule[peerField] = peers
		}
		rules = append(rules, rule)
	}
	return rules
}

func (g *gen) ports() []obj {
	var ports []obj
	for range 1 + g.r.IntN(2) {
		p := obj{"protocol": g.pick(protos)}
		switch g.r.IntN(5) {
		case 0: // protocol only
		case 1:
			p["port"] = g.pick(portNames)
		case 2:
			p["port"] = 80
			p["endPort"] = 80 + g.r.IntN(8100)
		default:
			p["port"] = []int{53, 80, 81, 443, 5432, 8080, 9090}[g.r.IntN(7)]
		}
		ports = append(ports, p)
	}
	return ports
}

func (g *gen) peer() obj {
	switch g.r.IntN(6) {
	case 0:
		return obj{"ipBlock": g.ipBlock()}
	case 1:
		return obj{"podSelector": g.selector(false)}
	case 2:
		return obj{"namespaceSelector": g.selector(false)}
	default:
		return obj{"podSelector": g.selector(false), "namespaceSelector": g.nsSelector()}
	}
}

func (g *gen) ipBlock() obj {
	switch g.r.IntN(4) {
	case 0:
		return obj{"cidr": "10.0.0.0/8", "except": []string{fmt.Sprintf("10.1.%d.0/24", g.r.IntN(4))}}
	case 1:
		return obj{"cidr": fmt.Sprintf("10.1.%d.0/24", g.r.IntN(4))}
	case 2:
		return obj{"cidr": "0.0.0.0/0", "except": []string{"10.0.0.0/8"}}
	default:
		return obj{"cidr": "fd00::/64", "except": []string{fmt.Sprintf("fd00::%x/128", 9+10*g.r.IntN(100))}}
	}
}

// selector returns a pod selector; a target selector is empty a third of the
// time, a peer selector a fifth.
func (g *gen) selector(target bool) obj {
	if g.chance(0.2) || (target && g.chance(0.15)) {
		return obj{}
	}
	sel := obj{}
	if g.chance(0.7) {
		ml := obj{"app": g.pick(apps)}
		if g.chance(0.2) {
			ml["tier"] = g.pick(tiers)
		}
		if g.o.cyclonusBugs && g.chance(0.1) {
			ml["env"] = ""
		}
		sel["matchLabels"] = ml
	}
	if g.chance(0.4) || len(sel) == 0 {
		sel["matchExpressions"] = []obj{g.expression("env", envs), g.expression("tier", tiers)}[:1+g.r.IntN(2)]
	}
	return sel
}

func (g *gen) nsSelector() obj {
	switch g.r.IntN(4) {
	case 0:
		return obj{}
	case 1:
		return obj{"matchLabels": obj{"team": g.pick(teams)}}
	case 2:
		return obj{"matchLabels": obj{"kubernetes.io/metadata.name": fmt.Sprintf("ns-%d", g.r.IntN(g.o.namespaces))}}
	default:
		return obj{"matchExpressions": []obj{g.expression("env", envs)}}
	}
}

func (g *gen) expression(key string, values []string) obj {
	ops := []string{"In", "Exists", "DoesNotExist"}
	if g.o.cyclonusBugs {
		ops = append(ops, "NotIn")
	}
	op := ops[g.r.IntN(len(ops))]
	e := obj{"key": key, "operator": op}
	if op == "In" || op == "NotIn" {
		e["values"] = []string{g.pick(values), g.pick(values)}
	}
	return e
}
