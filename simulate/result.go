package simulate

// Verdict is the outcome of a connection or of one direction of it. The zero
// value is VerdictUnknown: not decided.
type Verdict uint8

// The verdicts.
const (
	VerdictUnknown Verdict = iota
	Allowed
	Denied
)

// String returns "allowed", "denied" or "unknown".
func (v Verdict) String() string {
	switch v {
	case Allowed:
		return "allowed"
	case Denied:
		return "denied"
	}
	return "unknown"
}

// Direction is the side of a connection that a policy isolates.
type Direction uint8

// The directions. The zero value is DirectionUnknown.
const (
	DirectionUnknown Direction = iota
	Ingress
	Egress
)

// String returns "ingress", "egress" or "unknown".
func (d Direction) String() string {
	switch d {
	case Ingress:
		return "ingress"
	case Egress:
		return "egress"
	}
	return "unknown"
}

// Reason says why a direction got its verdict. The zero value is
// ReasonUnknown.
type Reason uint8

// The reasons.
const (
	ReasonUnknown Reason = iota
	// NotIsolated: no policy selects the subject for this direction, so
	// everything is allowed.
	NotIsolated
	// RuleMatched: a rule of a policy selecting the subject allowed it.
	RuleMatched
	// NoRuleMatched: the subject is isolated and no rule allowed it.
	NoRuleMatched
	// NotSubject: the subject is not a pod that policies can select (an
	// external address, or a hostNetwork pod, which acts as its node).
	NotSubject
	// SameEndpoint: a pod talking to itself is never subject to policy.
	SameEndpoint
	// ResidentNode: traffic between a pod and the node it runs on (the
	// node's addresses, hostNetwork pods on it) is always allowed, both
	// ways.
	ResidentNode
)

// String returns a short lowercase description of r.
func (r Reason) String() string {
	switch r {
	case NotIsolated:
		return "not isolated"
	case RuleMatched:
		return "rule matched"
	case NoRuleMatched:
		return "no rule matched"
	case NotSubject:
		return "not selectable by policies"
	case SameEndpoint:
		return "same endpoint"
	case ResidentNode:
		return "own node"
	}
	return "unknown"
}

// Decision is the verdict of one direction with the rule that decided it.
// Policy, Rule and Peer index Engine.Policies(), the policy's rules of that
// direction, and the rule's peers; they are -1 where they do not apply (Peer
// is -1 too when the rule has no peers and so allows every peer).
type Decision struct {
	Verdict Verdict
	Reason  Reason
	Policy  int32
	Rule    int32
	Peer    int32
}

// Result is the verdict of a connection: allowed only when the source's
// egress and the destination's ingress both allow it.
type Result struct {
	Verdict Verdict
	Egress  Decision // the source's side
	Ingress Decision // the destination's side
}
