package state

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/netpol/netpol/graph"
)

// Load reads the state file at path. A missing file is an error that
// errors.Is reports as fs.ErrNotExist; a file of another schema is a
// *SchemaError.
func Load(path string) (*graph.Graph, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading state: %w", err)
	}
	g, err := Unmarshal(data)
	if err != nil {
		return nil, fmt.Errorf("state file %q: %w", path, err)
	}
	return g, nil
}

// LoadOrNew reads the state file at path, or returns an empty graph when
// there is none yet (existed is then false).
func LoadOrNew(path string) (g *graph.Graph, existed bool, err error) {
	g, err = Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		return graph.New(), false, nil
	}
	return g, err == nil, err
}

// Save writes g to path atomically: into a temporary file of the same
// directory, synced, renamed over path, and the directory synced. It
// refuses to replace a file that is not a state file of this schema (a
// newer netpol's state, or anything else), returning a *SchemaError. A new
// file gets mode 0644; an existing one keeps its mode.
func Save(path string, g *graph.Graph) error {
	data, err := Marshal(g)
	if err != nil {
		return err
	}
	mode := fs.FileMode(0o644)
	if old, err := readExisting(path, &mode); err == nil {
		if err := checkSchema(old); err != nil {
			return fmt.Errorf("refusing to overwrite %q: %w", path, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("writing state: %w", err)
	}
	return writeAtomic(path, data, mode)
}

// readExisting reads the file at path and sets *perm to its permission
// bits, leaving it alone when they cannot be read.
func readExisting(path string, perm *fs.FileMode) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err == nil {
		*perm = fi.Mode().Perm()
	}
	return data, nil
}

// writeAtomic replaces path with data so that a crash leaves either the
// old file or the new one.
func writeAtomic(path string, data []byte, mode fs.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	if err = tmp.Chmod(mode); err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("writing state: syncing %q: %w", tmp.Name(), err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("writing state: syncing directory %q: %w", dir, err)
	}
	return nil
}
