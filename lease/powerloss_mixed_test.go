package lease

import (
	"testing"
)

// More power-loss scenarios: participants that know the boot id and ones
// that do not, in one boot, each tidying the other's blocks away; and two
// participants reserving the same block at once, one of them frozen
// between its link and the fsync of the directory.
var plMoreScenarios = []plScenario{
	{"mixed boot ids", func(w *plWorld) {
		a, d, e, g := w.open("a"), w.open("d"), w.open("e"), w.open("g")
		d.f.boot, g.f.boot = "", ""
		la := w.acquire(a) // in block 1
		w.renew(la, nil)   // reserves block 2
		w.kill(a)
		ld := w.acquire(d) // above every block, durable; its tidying removes them all
		w.renew(ld, nil)
		w.kill(d)
		le := w.acquire(e) // reserves the block of its epoch
		w.renew(le, nil)
		if err := le.Release(ctx); err != nil {
			w.t.Fatal(err)
		}
		w.acquire(g)
	}},
	{"two reservers at once", func(w *plWorld) {
		a, b, c, d := w.open("a"), w.open("b"), w.open("c"), w.open("d")
		w.acquire(a) // epoch 1, block 1
		w.kill(a)
		w.acquire(b) // epoch 2, block 1
		w.kill(b)
		if w.boot == "" {
			return // no blocks to reserve
		}
		// c reserves block 2 and freezes after linking it, before the
		// directory's fsync; d finds it linked, makes it durable itself
		// and claims in it.
		frozen, thaw, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		linked := false
		c.f.hook = func(p string) {
			switch {
			case p == "link:block":
				linked = true
			case p == "sync:side" && linked:
				linked = false
				close(frozen)
				<-thaw
			}
		}
		go func() {
			_, err := w.tryAcquire(c)
			done <- err
		}()
		<-frozen
		ld := w.acquire(d)
		w.renew(ld, nil)
		w.kill(d)
		close(thaw)
		if err := <-done; err != nil {
			w.t.Logf("c: %v", err)
		}
	}},
}

func TestPowerLossMore(t *testing.T) {
	for _, cfg := range []plConfig{plConfigs[0], {name: "blocks, then no boot id", boot: "boot-A", after: "", blockSize: 2}, {name: "no boot id, then blocks", boot: "", after: "boot-B", blockSize: 2}} {
		for _, sc := range plMoreScenarios {
			t.Run(cfg.name+"/"+sc.name, func(t *testing.T) {
				r := powerLoss(t, sc, cfg)
				for i, v := range r.violations {
					if i == 3 {
						t.Errorf("... and %d more", len(r.violations)-i)
						break
					}
					t.Error(v)
				}
				t.Logf("%d changes, epochs %v granted; %d crash states, %d distinct", r.ops, r.epochs, r.points, r.states)
			})
		}
	}
}
