package lease

import "testing"

// A participant that cannot read the boot id (bootID returns "", as in a
// process that runs without /proc mounted) makes each of its claims
// durable itself; it must still go above the blocks of epochs reserved in
// earlier boots, in which participants that knew the boot id claimed
// without making their claims durable. Without that rule, this schedule
// grants an epoch twice:
//
//  1. boot-A: a acquires the lease. It reserves block 1 (block.1 holds
//     "boot-A", fsynced, linked into place, the sidecar directory
//     fsynced), creates claim.1 without fsync, publishes, and
//     TryAcquire returns epoch 1.
//  2. The machine crashes (crashStrict): claim.1, its beat, the record
//     and ready.1 were never made durable and are gone; block.1 stays.
//  3. In the next boot the boot id cannot be read: q1 lists no claim and
//     would take epoch 1 again.
func TestPowerLossBootIDUnknownAfterCrash(t *testing.T) {
	cfg := plConfig{boot: "boot-A", after: "", blockSize: 2}
	r := powerLoss(t, plScenarios[0], cfg)
	if len(r.violations) > 0 {
		t.Fatalf("%d of %d crash states grant an epoch again; the first:\n%s", len(r.violations), r.points, r.violations[0])
	}
}
