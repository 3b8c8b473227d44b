package owner_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/leasehold/leasehold/internal/worker"
)

func TestMain(m *testing.M) {
	if worker.Active() {
		os.Exit(worker.Main())
	}
	goleak.VerifyTestMain(m)
}
