package kube

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// BackupSchema identifies the backup file format.
const BackupSchema = "netpol.dev/backup/v1"

// Backup is the state of the policies an apply may touch, saved before its
// first change so that Restore can bring it back.
type Backup struct {
	Schema string `json:"schema"`
	// Server is the API server the policies were read from.
	Server string `json:"server"`
	// Time is when the backup was taken.
	Time time.Time `json:"time"`
	// Namespaces are the namespaces the apply covered.
	Namespaces []string `json:"namespaces"`
	// Policies are every live policy of those namespaces, as read (without
	// managedFields), sorted by namespace and name.
	Policies []networkingv1.NetworkPolicy `json:"policies"`
	// Created are the policies the apply was to create: Restore deletes
	// them (when they still carry ManagedByLabel).
	Created []Ref `json:"created"`
}

// Ref names a policy.
type Ref struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// NewBackup returns the backup of plan p.
func (c *Client) NewBackup(p *Plan) *Backup {
	b := &Backup{Schema: BackupSchema, Server: c.host, Time: time.Now().UTC().Truncate(time.Second),
		Namespaces: p.Namespaces, Policies: p.Live, Created: []Ref{}}
	if b.Policies == nil {
		b.Policies = []networkingv1.NetworkPolicy{}
	}
	for _, s := range p.Steps {
		if s.Action == Add {
			b.Created = append(b.Created, Ref{s.Namespace, s.Name})
		}
	}
	sortRefs(b.Created)
	return b
}

// Save writes b to path atomically: a temporary file in the same
// directory, synced, then renamed over path.
func (b *Backup) Save(path string) (err error) {
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing the backup: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("writing the backup: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("writing the backup: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("writing the backup: %w", err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("writing the backup: %w", err)
	}
	if d, derr := os.Open(filepath.Dir(path)); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// LoadBackup reads a backup file.
func LoadBackup(path string) (*Backup, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var b Backup
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("%s: not a netpol backup: %w", path, err)
	}
	if b.Schema != BackupSchema {
		return nil, fmt.Errorf("%s: schema %q, want %q", path, b.Schema, BackupSchema)
	}
	return &b, nil
}

// Restore brings the policies of the backup's namespaces (of namespace
// only, when not "") back to the saved state: a saved policy that is gone
// is created again, one that differs gets its saved labels, annotations
// and spec back, and a policy the apply created is deleted. Other
// policies are left alone. It returns what it did, one "action ns/name"
// per change.
func (c *Client) Restore(ctx context.Context, b *Backup, namespace string) ([]string, error) {
	var done []string
	var errs []error
	for i := range b.Policies {
		p := &b.Policies[i]
		if namespace != "" && p.Namespace != namespace {
			continue
		}
		action, err := c.restoreOne(ctx, p)
		if err != nil {
			errs = append(errs, fmt.Errorf("restoring NetworkPolicy %s/%s: %w", p.Namespace, p.Name, err))
		} else if action != "" {
			done = append(done, action+" "+p.Namespace+"/"+p.Name)
		}
	}
	for _, r := range b.Created {
		if namespace != "" && r.Namespace != namespace {
			continue
		}
		live, err := c.cs.NetworkingV1().NetworkPolicies(r.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("reading NetworkPolicy %s/%s: %w", r.Namespace, r.Name, forbidden(err, "get", policiesResource, r.Namespace)))
			continue
		}
		if !isManaged(live) {
			continue // someone else's now
		}
		if err := c.deletePolicy(ctx, r.Namespace, r.Name, false); err != nil {
			errs = append(errs, fmt.Errorf("deleting NetworkPolicy %s/%s: %w", r.Namespace, r.Name, err))
			continue
		}
		done = append(done, "delete "+r.Namespace+"/"+r.Name)
	}
	return done, errors.Join(errs...)
}

// restoreOne restores one saved policy; it returns "create", "restore" or
// "" (already as saved).
func (c *Client) restoreOne(ctx context.Context, p *networkingv1.NetworkPolicy) (string, error) {
	api := c.cs.NetworkingV1().NetworkPolicies(p.Namespace)
	live, err := api.Get(ctx, p.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		obj := p.DeepCopy()
		obj.ResourceVersion, obj.UID, obj.Generation, obj.CreationTimestamp = "", "", 0, metav1.Time{}
		_, err = api.Create(ctx, obj, metav1.CreateOptions{FieldManager: FieldManager})
		return "create", forbidden(err, "create", policiesResource, p.Namespace)
	}
	if err != nil {
		return "", forbidden(err, "get", policiesResource, p.Namespace)
	}
	if samePolicy(live, p) {
		return "", nil
	}
	// A JSON patch that sets labels, annotations and spec as a whole (add
	// replaces an existing member), guarded by the resourceVersion read.
	ops := []map[string]any{
		{"op": "test", "path": "/metadata/resourceVersion", "value": live.ResourceVersion},
		{"op": "add", "path": "/spec", "value": p.Spec},
	}
	for _, m := range []struct {
		path       string
		saved, now map[string]string
	}{{"/metadata/labels", p.Labels, live.Labels}, {"/metadata/annotations", p.Annotations, live.Annotations}} {
		switch {
		case len(m.saved) > 0:
			ops = append(ops, map[string]any{"op": "add", "path": m.path, "value": m.saved})
		case len(m.now) > 0:
			ops = append(ops, map[string]any{"op": "remove", "path": m.path})
		}
	}
	data, err := json.Marshal(ops)
	if err != nil {
		return "", err
	}
	_, err = api.Patch(ctx, p.Name, types.JSONPatchType, data, metav1.PatchOptions{FieldManager: FieldManager})
	return "restore", forbidden(err, "patch", policiesResource, p.Namespace)
}

// sortRefs sorts refs by namespace and name.
func sortRefs(refs []Ref) {
	slices.SortFunc(refs, func(a, b Ref) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
}
