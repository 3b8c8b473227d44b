package supervise

import (
	"testing"
	"time"
)

func TestKillAt(t *testing.T) {
	t0 := time.Unix(1000, 0)
	grace := 200 * time.Millisecond
	for _, tc := range []struct {
		name     string
		deadline time.Time
		want     time.Time
	}{
		{"deadline far ahead: grace", t0.Add(time.Second), t0.Add(grace)},
		{"deadline within grace: before the deadline", t0.Add(50 * time.Millisecond), t0.Add(40 * time.Millisecond)},
		{"deadline just after grace: before it, within grace", t0.Add(grace + time.Millisecond), t0.Add(grace - 9*time.Millisecond)},
		{"deadline within the margin: at once", t0.Add(5 * time.Millisecond), t0.Add(-5 * time.Millisecond)},
		{"deadline passed (frozen): grace", t0.Add(-time.Second), t0.Add(grace)},
		{"deadline now: grace", t0, t0.Add(grace)},
		{"never owned: grace", time.Time{}, t0.Add(grace)},
	} {
		if got := killAt(t0, grace, tc.deadline); !got.Equal(tc.want) {
			t.Errorf("%s: killAt = %v, want %v", tc.name, got.Sub(t0), tc.want.Sub(t0))
		}
	}
}

// With a short Grace the margin is a quarter of it, so the child keeps
// most of its Grace.
func TestKillAtShortGrace(t *testing.T) {
	t0 := time.Unix(1000, 0)
	if got := killAt(t0, 20*time.Millisecond, t0.Add(20*time.Millisecond)); !got.Equal(t0.Add(15 * time.Millisecond)) {
		t.Fatalf("killAt = %v after SIGTERM, want 15ms", got.Sub(t0))
	}
}

func TestDescribe(t *testing.T) {
	for code, want := range map[int]string{0: "exited with status 0", 7: "exited with status 7", 137: "killed by signal 9 (status 137)"} {
		if got := describe(code); got != want {
			t.Errorf("describe(%d) = %q, want %q", code, got, want)
		}
	}
}
