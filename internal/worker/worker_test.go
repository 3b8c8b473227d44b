package worker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		name      string
		env       map[string]string
		check     time.Duration
		firstOnly bool
		appends   bool
		err       string
	}{
		{name: "defaults", check: time.Millisecond},
		{name: "check every half millisecond, report the first, append",
			env:   map[string]string{EnvCheck: "500us", EnvReport: "first", EnvAppend: "out.log"},
			check: 500 * time.Microsecond, firstOnly: true, appends: true},
		{name: "report all", env: map[string]string{EnvReport: "all"}, check: time.Millisecond},
		{name: "unknown report", env: map[string]string{EnvReport: "some"}, err: EnvReport},
		{name: "bad check", env: map[string]string{EnvCheck: "soon"}, err: EnvCheck},
		{name: "zero check", env: map[string]string{EnvCheck: "0s"}, err: "must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{EnvCheck, EnvReport, EnvAppend, EnvTTL, EnvRenew} {
				t.Setenv(k, tc.env[k])
			}
			set, err := config()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("config() error %v, want one naming %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if set.check != tc.check || set.firstOnly != tc.firstOnly || (set.output != nil) != tc.appends {
				t.Fatalf("config() = check %v, first only %v, appender %v", set.check, set.firstOnly, set.output)
			}
		})
	}
}

func TestAppender(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "out.log")
	var none *appender
	if err := none.write(1); err != nil {
		t.Fatalf("nil appender: %v", err)
	}
	a := &appender{path: path}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("file exists before the first line: %v", err)
	}
	for _, epoch := range []uint64{7, 7, 8} {
		if err := a.write(epoch); err != nil {
			t.Fatal(err)
		}
	}
	a.close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "7 ") || !strings.HasPrefix(lines[2], "8 ") {
		t.Fatalf("appended %q", b)
	}

	bad := &appender{path: filepath.Join(t.TempDir(), "missing", "out.log")}
	if err := bad.write(1); err == nil {
		t.Fatal("append to a file in a missing directory succeeded")
	}
	if err := bad.write(1); err != nil {
		t.Fatalf("appender kept trying after a failure: %v", err)
	}
}
