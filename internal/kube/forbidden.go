package kube

import (
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// The ClusterRoles of deploy/rbac/.
const (
	// ReaderRole may read what netpol reads: namespaces, nodes, pods,
	// services, endpointslices, workloads and NetworkPolicies
	// (deploy/rbac/reader.yaml).
	ReaderRole = "netpol-reader"
	// ApplierRole may, besides, create, patch and delete NetworkPolicies
	// (deploy/rbac/applier.yaml).
	ApplierRole = "netpol-applier"
)

// ForbiddenError is a request the API server refused for lack of
// permission. It names what is missing and the ClusterRole that grants it.
type ForbiddenError struct {
	// Verb is the verb refused: "list", "patch", ...
	Verb string
	// Resource is the resource with its group: "pods",
	// "networkpolicies.networking.k8s.io".
	Resource string
	// Namespace is where it was refused; "" is cluster-wide.
	Namespace string
	// Role is the ClusterRole of deploy/rbac/ that grants Verb.
	Role string
	// Err is the API server's error.
	Err error
}

// Error says what is missing and which ClusterRole grants it.
func (e *ForbiddenError) Error() string {
	where := "in all namespaces"
	if e.Namespace != "" {
		where = fmt.Sprintf("in namespace %q", e.Namespace)
	}
	file := "reader.yaml"
	if e.Role == ApplierRole {
		file = "applier.yaml"
	}
	return fmt.Sprintf("forbidden: missing permission to %s %s %s (bind the ClusterRole %s of deploy/rbac/%s, which grants it): %v",
		e.Verb, e.Resource, where, e.Role, file, e.Err)
}

// Unwrap returns the API server's error.
func (e *ForbiddenError) Unwrap() error { return e.Err }

// forbidden wraps err in a *ForbiddenError when the API server refused the
// request for lack of permission, and returns it unchanged otherwise.
func forbidden(err error, verb, resource, namespace string) error {
	if err == nil || !apierrors.IsForbidden(err) {
		return err
	}
	var fe *ForbiddenError
	if errors.As(err, &fe) {
		return err
	}
	role := ReaderRole
	switch verb {
	case "create", "patch", "update", "delete":
		role = ApplierRole
	}
	return &ForbiddenError{Verb: verb, Resource: resource, Namespace: namespace, Role: role, Err: err}
}
