package state

import (
	"time"
)

// Schema is the schema this package writes and reads.
const Schema = "netpol.dev/state/v1"

// schemaPrefix is the name every version of the schema starts with.
const schemaPrefix = "netpol.dev/state/v"

// fileV1 is the state file, schema netpol.dev/state/v1.
type fileV1 struct {
	// Schema is nil when the field is absent or null.
	Schema *string `json:"schema"`
	// Windows is the learning window of each observed namespace.
	Windows map[string]windowV1 `json:"windows"`
	Edges   []edgeV1            `json:"edges"`
	// Names are the DNS names of addresses, as flows answered them:
	// address -> sorted names. Absent when none was seen.
	Names map[string][]string `json:"names,omitempty"`
}

type windowV1 struct {
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
}

// edgeV1 names its nodes by key: "Deployment:shop/web", "External:203.0.113.7",
// "Reserved:host".
type edgeV1 struct {
	From      string   `json:"from"`
	To        string   `json:"to"`
	Forwarded []portV1 `json:"forwarded,omitempty"`
	Dropped   []portV1 `json:"dropped,omitempty"`
}

type portV1 struct {
	Protocol  string    `json:"protocol"`
	Port      uint16    `json:"port"`
	Count     int64     `json:"count"`
	FirstSeen time.Time `json:"firstSeen"`
	LastSeen  time.Time `json:"lastSeen"`
	Sample    *sampleV1 `json:"sample,omitempty"`
}

type sampleV1 struct {
	Time        time.Time  `json:"time"`
	Source      endpointV1 `json:"source"`
	Destination endpointV1 `json:"destination"`
	Verdict     string     `json:"verdict"`
	Node        string     `json:"node,omitempty"`
}

type endpointV1 struct {
	IP        string `json:"ip,omitempty"`
	Port      uint16 `json:"port,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Pod       string `json:"pod,omitempty"`
}
