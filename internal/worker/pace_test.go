package worker

import (
	"testing"
	"time"
)

func TestTickerBelowAMillisecond(t *testing.T) {
	t.Parallel()
	if _, ok := newTicker(time.Millisecond).(stdTicker); !ok {
		t.Fatal("a ticker of 1 ms is not a time.Ticker")
	}
	tk := newTicker(500 * time.Microsecond)
	defer tk.Stop()
	if _, ok := tk.(*pacer); !ok {
		t.Fatal("a ticker of 0.5 ms is not a pacer")
	}
	// A time.Ticker of 0.5 ms ticks about 200 times in 200 ms on Linux; the
	// pacer should come near 400. The bound leaves room for a busy machine.
	n := 0
	for end := time.Now().Add(200 * time.Millisecond); time.Now().Before(end); n++ {
		<-tk.C()
	}
	if n < 260 {
		t.Fatalf("%d ticks in 200 ms at 0.5 ms", n)
	}
}

func TestPacerDropsWhatASlowReceiverMisses(t *testing.T) {
	t.Parallel()
	p := newPacer(time.Millisecond / 2)
	defer p.Stop()
	time.Sleep(20 * time.Millisecond) // 40 ticks due, none taken
	// What follows comes at the pace, not as a backlog of 40.
	n := 0
	for end := time.Now().Add(5 * time.Millisecond); time.Now().Before(end); {
		select {
		case <-p.C():
			n++
		case <-time.After(time.Until(end)):
		}
	}
	if n == 0 {
		t.Fatal("the pacer stopped ticking")
	}
	if n > 12 {
		t.Fatalf("%d ticks in 5 ms at 0.5 ms: the pacer kept ticks for a slow receiver", n)
	}
}
