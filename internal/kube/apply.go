package kube

import (
	"context"
	"encoding/json"
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// dryRun returns the DryRun value of request options.
func dryRun(dry bool) []string {
	if dry {
		return []string{metav1.DryRunAll}
	}
	return nil
}

// applyPolicy applies obj server-side as FieldManager, taking over fields
// other managers own, and returns the result.
func (c *Client) applyPolicy(ctx context.Context, obj *networkingv1.NetworkPolicy, dry bool) (*networkingv1.NetworkPolicy, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	got, err := c.cs.NetworkingV1().NetworkPolicies(obj.Namespace).Patch(ctx, obj.Name, types.ApplyPatchType, data,
		metav1.PatchOptions{FieldManager: FieldManager, Force: ptr.To(true), DryRun: dryRun(dry)})
	return got, forbidden(err, "patch", policiesResource, obj.Namespace)
}

// deletePolicy deletes a policy; one already gone is no error.
func (c *Client) deletePolicy(ctx context.Context, ns, name string, dry bool) error {
	err := c.cs.NetworkingV1().NetworkPolicies(ns).Delete(ctx, name, metav1.DeleteOptions{DryRun: dryRun(dry)})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return forbidden(err, "delete", policiesResource, ns)
}

// Execute carries out steps (those of Plan.Changes) in order and calls
// done after each one that succeeded. It stops at the first failure.
func (c *Client) Execute(ctx context.Context, steps []Step, done func(Step)) error {
	for _, s := range steps {
		var err error
		switch s.Action {
		case Add, Change:
			_, err = c.applyPolicy(ctx, s.Apply, false)
		case Delete:
			err = c.deletePolicy(ctx, s.Namespace, s.Name, false)
		default:
			continue
		}
		if err != nil {
			return fmt.Errorf("%s NetworkPolicy %s: %w", s.Action, s.ID(), err)
		}
		if done != nil {
			done(s)
		}
	}
	return nil
}
