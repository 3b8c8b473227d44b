package owner

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if runWorker() {
		return
	}
	goleak.VerifyTestMain(m)
}
