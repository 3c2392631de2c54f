// Command genscenario writes a pseudo-random, already-defaulted scenario for
// the oracle CLIs (see test/oracles/README.md), for benchmarks and
// differential runs. The output depends only on the flags.
//
//	go run ./cmd/genscenario -pods 1000 -policies 300 > /tmp/large.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	namespaces, pods, policies, externals int
	seed                                  uint64
	cyclonusBugs                          bool
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("genscenario", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.namespaces, "namespaces", 20, "number of namespaces")
	fs.IntVar(&o.pods, "pods", 1000, "number of pods")
	fs.IntVar(&o.policies, "policies", 300, "number of policies")
	fs.IntVar(&o.externals, "externals", 20, "number of external addresses")
	fs.Uint64Var(&o.seed, "seed", 1, "random seed")
	fs.BoolVar(&o.cyclonusBugs, "cyclonus-bugs", false, "also generate NotIn and empty-value matchLabels selectors, which cyclonus gets wrong")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.namespaces < 1 || o.pods < 1 || o.pods > 60000 || o.policies < 0 || o.externals < 0 || o.externals > 250 {
		fmt.Fprintln(stderr, "genscenario: need 1+ namespaces, 1-60000 pods, 0+ policies, 0-250 externals")
		return 2
	}
	g := &gen{o: o, r: rand.New(rand.NewPCG(o.seed, 42))}
	enc := json.NewEncoder(stdout)
	if err := enc.Encode(g.scenario()); err != nil {
		fmt.Fprintf(stderr, "genscenario: %v\n", err)
		return 2
	}
	return 0
}

type obj = map[string]any

type gen struct {
	o options
	r *rand.Rand
}

var (
	apps     = []string{"web", "api", "db", "cache", "worker", "frontend", "backend", "queue"}
	tiers    = []string{"front", "middle", "back"}
	teams    = []string{"red", "green", "blue"}
	envs     = []string{"prod", "dev", "staging"}
	protos   = []string{"TCP", "UDP", "SCTP"}
	probes   = []string{"TCP/80", "TCP/443", "UDP/53", "TCP/8080", "SCTP/81", "TCP/5432"}
	podPorts = []obj{
		{"name": "http", "protocol": "TCP", "port": 80},
		{"name": "https", "protocol": "TCP", "port": 443},
		{"name": "dns", "protocol": "UDP", "port": 53},
		{"name": "http", "protocol": "TCP", "port": 8080}, // same name, another number
		{"name": "sctp", "protocol": "SCTP", "port": 81},
		{"name": "pg", "protocol": "TCP", "port": 5432},
		{"name": "", "protocol": "TCP", "port": 9090},
	}
	portNames = []string{"http", "https", "dns", "sctp", "pg", "nope"}
)

func (g *gen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }
func (g *gen) chance(p float64) bool   { return g.r.Float64() < p }

func (g *gen) scenario() obj {
	var nss, pods, pols []obj
	for i := range g.o.namespaces {
		name := fmt.Sprintf("ns-%d", i)
		labels := obj{"kubernetes.io/metadata.name": name, "team": g.pick(teams)}
		if g.chance(0.6) {
			labels["env"] = g.pick(envs)
		}
		nss = append(nss, obj{"name": name, "labels": labels})
	}
	for i := range g.o.pods {
		pods = append(pods, g.pod(i))
	}
	for i := range g.o.policies {
		pols = append(pols, g.policy(i))
	}
	var exts []string
	for i := range g.o.externals {
		switch i % 3 {
		case 0:
			exts = append(exts, fmt.Sprintf("192.0.2.%d", i+1))
		case 1:
			exts = append(exts, fmt.Sprintf("2001:db8::%x", i+1))
		default:
			exts = append(exts, fmt.Sprintf("10.255.0.%d", i+1)) // inside the pod CIDRs
		}
	}
	return obj{"namespaces": nss, "pods": pods, "policies": pols, "externals": exts, "probes": probes}
}

func (g *gen) pod(i int) obj {
	labels := obj{"app": g.pick(apps), "tier": g.pick(tiers)}
	if g.chance(0.5) {
		labels["env"] = g.pick(envs)
	} else if g.chance(0.2) {
		labels["env"] = ""
	}
	ip := fmt.Sprintf("10.%d.%d.%d", 1+i/65536, (i/256)%256, i%256)
	if i%10 == 9 {
		ip = fmt.Sprintf("fd00::%x", i)
	}
	var ports []obj
	used := map[int]bool{}
	for _, p := range podPorts {
		num := p["port"].(int)
		if g.chance(0.4) && !(num == 8080 && used[80]) && !used[num] {
			used[num] = true
			ports = append(ports, p)
		}
	}
	return obj{"namespace": fmt.Sprintf("ns-%d", g.r.IntN(g.o.namespaces)), "name": fmt.Sprintf("pod-%d", i),
		"labels": labels, "ip": ip, "ports": ports}
}
