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
		{"deadline within grace: the deadline", t0.Add(50 * time.Millisecond), t0.Add(50 * time.Millisecond)},
		{"deadline passed (frozen): grace", t0.Add(-time.Second), t0.Add(grace)},
		{"deadline now: grace", t0, t0.Add(grace)},
		{"never owned: grace", time.Time{}, t0.Add(grace)},
	} {
		if got := killAt(t0, grace, tc.deadline); !got.Equal(tc.want) {
			t.Errorf("%s: killAt = %v, want %v", tc.name, got.Sub(t0), tc.want.Sub(t0))
		}
	}
}

func TestDescribe(t *testing.T) {
	for code, want := range map[int]string{0: "exited with status 0", 7: "exited with status 7", 137: "killed by signal 9 (status 137)"} {
		if got := describe(code); got != want {
			t.Errorf("describe(%d) = %q, want %q", code, got, want)
		}
	}
}
