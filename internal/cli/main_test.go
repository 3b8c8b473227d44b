package cli_test

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"go.uber.org/goleak"

	"github.com/leasehold/leasehold/internal/cli"
	"github.com/leasehold/leasehold/internal/exampleapp"
)

// envRole makes the test binary, run again, one of the processes of the
// tests: the command ("cli") or the example application ("app").
const envRole = "LEASEHOLD_CLI_TEST_ROLE"

func TestMain(m *testing.M) {
	switch os.Getenv(envRole) {
	case "cli":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := cli.Main(ctx, cli.Env{Args: os.Args[1:], Stdout: os.Stdout, Stderr: os.Stderr, Environ: os.Environ()})
		stop()
		os.Exit(code)
	case "app":
		os.Args = append(os.Args[:1], "-config", "", "-work", "1h")
		exampleapp.Main(nil)
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}
