package kube

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The mark of a policy netpol created.
const (
	// ManagedByLabel is set on every NetworkPolicy netpol creates, and
	// only on those: netpol deletes a policy without it only with Prune.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// ManagedByValue is ManagedByLabel's value.
	ManagedByValue = "netpol"
	// FieldManager is the field manager of netpol's server-side applies.
	FieldManager = "netpol"
)

// policiesResource names NetworkPolicies in errors.
const policiesResource = "networkpolicies.networking.k8s.io"

// Action is what an apply does to one policy.
type Action string

// The actions of a plan.
const (
	// Add creates a policy that does not exist.
	Add Action = "add"
	// Change applies a policy whose live labels, annotations or spec
	// differ.
	Change Action = "change"
	// Delete deletes a live policy that is not in the desired set: one
	// netpol created, or any with Prune.
	Delete Action = "delete"
	// Keep leaves alone a live policy that is not in the desired set and
	// that netpol did not create (without Prune).
	Keep Action = "keep"
	// Unchanged is a desired policy equal to the live one.
	Unchanged Action = "unchanged"
)

// Step is one step of a plan: what it does to one policy.
type Step struct {
	Action    Action
	Namespace string
	Name      string
	// Live is the live policy; nil for Add.
	Live *networkingv1.NetworkPolicy
	// Apply is the object sent to the API server for Add and Change: the
	// desired policy's name, namespace, labels, annotations and spec,
	// with ManagedByLabel when netpol creates or created it.
	Apply *networkingv1.NetworkPolicy
	// Deny is true for a policy with no rules at all (it only isolates):
	// in a namespace, these are applied after the others.
	Deny bool
}

// ID returns "namespace/name".
func (s *Step) ID() string { return s.Namespace + "/" + s.Name }

// PlanOptions say what an apply covers.
type PlanOptions struct {
	// Namespaces are the namespaces whose live policies are compared
	// with the desired ones; with AllNamespaces, every namespace.
	Namespaces []string
	// AllNamespaces compares the policies of every namespace.
	AllNamespaces bool
	// Prune deletes live policies that are not desired even when netpol
	// did not create them.
	Prune bool
}

// Plan is what an apply does, and what it may touch.
type Plan struct {
	// Steps are ordered by namespace; inside a namespace: changes and
	// additions of allow policies, then of deny policies, then deletions
	// of deny policies, then of the others. Keep and Unchanged steps are
	// listed too.
	Steps []Step
	// Namespaces are the namespaces of the plan, sorted.
	Namespaces []string
	// Live are the live policies of those namespaces: what a backup saves.
	Live []networkingv1.NetworkPolicy
}

// Counts returns how many steps have each action.
func (p *Plan) Counts() map[Action]int {
	m := map[Action]int{}
	for _, s := range p.Steps {
		m[s.Action]++
	}
	return m
}

// Changes returns the steps that change the cluster (Add, Change, Delete)
// of namespace ns, or of every namespace when ns is "".
func (p *Plan) Changes(ns string) []Step {
	var out []Step
	for _, s := range p.Steps {
		if (ns == "" || s.Namespace == ns) && (s.Action == Add || s.Action == Change || s.Action == Delete) {
			out = append(out, s)
		}
	}
	return out
}

// Plan compares the desired policies with the live ones. Every desired
// policy is first applied with a server-side dry-run, so that the API
// server validates it (all problems are returned, joined, and nothing is
// changed) and says what applying it would give; a policy is changed when
// that result's labels, annotations or spec differ from the live ones.
func (c *Client) Plan(ctx context.Context, desired []networkingv1.NetworkPolicy, o PlanOptions) (*Plan, error) {
	p := &Plan{}
	nsSet := map[string]bool{}
	for _, ns := range o.Namespaces {
		nsSet[ns] = true
	}
	for _, d := range desired {
		nsSet[d.Namespace] = true
	}
	live, err := c.livePolicies(ctx, slices.Sorted(maps.Keys(nsSet)), o.AllNamespaces)
	if err != nil {
		return nil, err
	}
	for _, l := range live {
		nsSet[l.Namespace] = true
	}
	p.Namespaces = slices.Sorted(maps.Keys(nsSet))
	p.Live = live
	byKey := map[string]*networkingv1.NetworkPolicy{}
	for i := range live {
		byKey[live[i].Namespace+"/"+live[i].Name] = &live[i]
	}
	var errs []error
	seen := map[string]bool{}
	for i := range desired {
		d := &desired[i]
		key := d.Namespace + "/" + d.Name
		if seen[key] {
			errs = append(errs, fmt.Errorf("NetworkPolicy %s is given twice", key))
			continue
		}
		seen[key] = true
		step, err := c.planOne(ctx, d, byKey[key])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p.Steps = append(p.Steps, step)
	}
	for i := range live {
		l := &live[i]
		if seen[l.Namespace+"/"+l.Name] {
			continue
		}
		step := Step{Action: Keep, Namespace: l.Namespace, Name: l.Name, Live: l, Deny: isDeny(l)}
		if o.Prune || isManaged(l) {
			step.Action = Delete
		}
		p.Steps = append(p.Steps, step)
	}
	if err := c.dryRunDeletes(ctx, p); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortStableFunc(p.Steps, compareSteps)
	return p, nil
}

// planOne dry-runs one desired policy and compares the result with live.
func (c *Client) planOne(ctx context.Context, d, live *networkingv1.NetworkPolicy) (Step, error) {
	obj := applyObject(d, live == nil || isManaged(live))
	step := Step{Action: Add, Namespace: d.Namespace, Name: d.Name, Live: live, Apply: obj, Deny: isDeny(d)}
	got, err := c.applyPolicy(ctx, obj, true)
	if err != nil {
		return step, fmt.Errorf("NetworkPolicy %s/%s: server-side dry-run: %w", d.Namespace, d.Name, err)
	}
	if live != nil {
		step.Action = Change
		if samePolicy(got, live) {
			step.Action = Unchanged
		}
	}
	return step, nil
}

// dryRunDeletes checks with a server-side dry-run that the deletions of p
// are allowed.
func (c *Client) dryRunDeletes(ctx context.Context, p *Plan) error {
	var errs []error
	for _, s := range p.Steps {
		if s.Action == Delete {
			if err := c.deletePolicy(ctx, s.Namespace, s.Name, true); err != nil {
				errs = append(errs, fmt.Errorf("NetworkPolicy %s: server-side dry-run of the deletion: %w", s.ID(), err))
			}
		}
	}
	return errors.Join(errs...)
}

// livePolicies lists the policies of the namespaces, or of all.
func (c *Client) livePolicies(ctx context.Context, namespaces []string, all bool) ([]networkingv1.NetworkPolicy, error) {
	if all {
		namespaces = []string{metav1.NamespaceAll}
	}
	var out []networkingv1.NetworkPolicy
	for _, ns := range namespaces {
		cont := ""
		for {
			l, err := c.cs.NetworkingV1().NetworkPolicies(ns).List(ctx, metav1.ListOptions{Limit: DefaultPageSize, Continue: cont})
			if err != nil {
				return nil, fmt.Errorf("listing the live NetworkPolicies: %w", forbidden(err, "list", policiesResource, ns))
			}
			out = append(out, l.Items...)
			if cont = l.Continue; cont == "" {
				break
			}
		}
	}
	for i := range out {
		out[i].ManagedFields = nil
		out[i].APIVersion, out[i].Kind = "networking.k8s.io/v1", "NetworkPolicy"
	}
	slices.SortFunc(out, func(a, b networkingv1.NetworkPolicy) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

// applyObject returns what is applied for d: its identity, labels,
// annotations and spec, and ManagedByLabel when managed.
func applyObject(d *networkingv1.NetworkPolicy, managed bool) *networkingv1.NetworkPolicy {
	obj := &networkingv1.NetworkPolicy{
		TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{
			Name: d.Name, Namespace: d.Namespace,
			Labels: maps.Clone(d.Labels), Annotations: maps.Clone(d.Annotations),
		},
		Spec: *d.Spec.DeepCopy(),
	}
	if managed {
		if obj.Labels == nil {
			obj.Labels = map[string]string{}
		}
		obj.Labels[ManagedByLabel] = ManagedByValue
	}
	return obj
}

// isManaged reports whether netpol created p.
func isManaged(p *networkingv1.NetworkPolicy) bool {
	return p.Labels[ManagedByLabel] == ManagedByValue
}

// isDeny reports whether p has no rules: it only isolates.
func isDeny(p *networkingv1.NetworkPolicy) bool {
	return len(p.Spec.Ingress) == 0 && len(p.Spec.Egress) == 0
}

// samePolicy reports whether a and b have the same labels, annotations and
// spec (nil and empty are the same).
func samePolicy(a, b *networkingv1.NetworkPolicy) bool {
	return equality.Semantic.DeepEqual(a.Labels, b.Labels) &&
		equality.Semantic.DeepEqual(a.Annotations, b.Annotations) &&
		equality.Semantic.DeepEqual(a.Spec, b.Spec)
}

// stepRank orders the steps inside a namespace.
func stepRank(s Step) int {
	switch {
	case s.Action == Delete && s.Deny:
		return 2
	case s.Action == Delete:
		return 3
	case s.Deny:
		return 1
	}
	return 0
}

func compareSteps(a, b Step) int {
	return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(stepRank(a), stepRank(b)), cmp.Compare(a.Name, b.Name))
}
