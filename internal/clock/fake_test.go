package clock

import (
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestFakeTimers(t *testing.T) {
	c := NewFake(time.Unix(0, 0))
	tm := c.NewTimer(time.Second)
	fired := make(chan struct{})
	c.AfterFunc(2*time.Second, func() { close(fired) })
	c.Advance(time.Second - 1)
	select {
	case <-tm.C():
		t.Fatal("timer fired early")
	default:
	}
	c.Advance(1)
	select {
	case <-tm.C():
	default:
		t.Fatal("timer did not fire at its deadline")
	}
	if tm.Reset(time.Second) {
		t.Fatal("Reset of a fired timer reported it active")
	}
	if !tm.Stop() {
		t.Fatal("Stop of a pending timer reported it inactive")
	}
	c.Advance(time.Second)
	<-fired
	select {
	case <-tm.C():
		t.Fatal("stopped timer fired")
	default:
	}
	if c.Pending() != 0 {
		t.Fatalf("%d timers pending", c.Pending())
	}
	if got := c.Now(); !got.Equal(time.Unix(2, 0)) {
		t.Fatalf("Now = %v", got)
	}
}
