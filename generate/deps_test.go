package generate_test

import (
	"testing"

	"github.com/netpol/netpol/internal/netpoltest"
)

func TestDeps(t *testing.T) {
	netpoltest.CheckDeps(t, "github.com/netpol/netpol/generate")
}
