// Package supervise runs a command for as long as this process owns a
// lease: the body of `leasehold run [--grace D] -- CMD ARGS...`.
//
// [Run] joins the election through Options.Join (any store), waits until it
// owns the lease, and starts the command with LEASEHOLD_EPOCH (the tenure's
// fencing epoch), LEASEHOLD_LEASE and LEASEHOLD_INSTANCE_ID added to its
// environment. It forwards SIGINT, SIGTERM and SIGHUP to the command, and
// when the command exits it releases the lease, so that the next
// supervisor starts its command at once, and returns the command's status.
//
// # One command at a time
//
// A command runs only within its supervisor's tenure, and is stopped by
// the tenure's deadline ([owner.Owner.Deadline]: a TTL after the start of
// the last successful renewal) as long as its supervisor runs:
//
//   - When ownership is lost, the command gets SIGTERM at once, and SIGKILL
//     Grace later. Run then returns [ExitLost] with the cause.
//   - Before that, when renewals fail: the supervisor sends SIGTERM once the
//     deadline is Grace away with no renewal moving it on, and SIGKILL just
//     before the deadline (10 ms, or a quarter of Grace if that is less, so
//     that a timer firing late still lands in time). A successor can own
//     only after the deadline, so its command starts after that SIGKILL.
//     SIGKILL also goes out by the deadline when ownership is lost earlier
//     with the deadline still ahead. Between two renewals that succeed, the
//     deadline comes as close as the TTL less the renewal interval, less
//     the time the renewals take and how late their timer fires (the
//     deadline counts from a renewal's start, the interval from its end):
//     Grace must be at most half of the TTL less the renewal interval, the
//     default, so that the other half absorbs those.
//   - A supervisor that learns of the loss only after the deadline (it was
//     frozen, see below) cannot keep the rule any more: it still sends
//     SIGTERM first and SIGKILL Grace later.
//
// Signals go to the command's process group: the command runs in a group
// of its own, so that only the signals the supervisor forwards reach it,
// and what it starts goes with it. When the command exits, whatever it left
// in its group is killed (Linux) before the lease is released. Being in its
// own group puts it in the background of a terminal: it may write to the
// terminal but not read from it (a read stops it, SIGTTIN), and Ctrl-C
// reaches it through the supervisor.
//
// # When the supervisor dies
//
// The command must not outlive its supervisor, or a successor's command
// would run beside it:
//
//   - Linux: the command is started with the parent-death signal set to
//     SIGKILL (prctl PR_SET_PDEATHSIG). The kernel ties it to the thread that
//     started the command, not the process, so the command is started and
//     waited for by a goroutine locked to its thread for the command's whole
//     life. Only the command itself is killed this way: processes it started
//     are not, so a shell script should exec its last program. The kernel
//     drops the dead supervisor's lock, which lets a successor take over, a
//     moment before it sends that signal, in the same exit: the successor's
//     takeover and start of its command take far longer, but nothing orders
//     the two strictly.
//   - Windows: the command is put in a job object that kills every process in
//     it when the supervisor's handle closes, which its death does.
//   - macOS and the other Unix systems have no such signal: a command whose
//     supervisor is killed runs on, reparented, beside the next one. It can
//     notice by watching its parent process id change (getppid).
//
// # A frozen supervisor
//
// A supervisor that is stopped (SIGSTOP, a debugger, a suspended laptop)
// cannot stop its command, and no signal from the kernel tells the command
// that its supervisor no longer renews: the command keeps running past the
// deadline, while a successor takes over a TTL after the last renewal and
// starts its own. When the frozen supervisor resumes it stops its command
// and exits [ExitLost], but for the time between, two commands run. The
// lease cannot prevent this; the epoch can. Pass LEASEHOLD_EPOCH with every
// write to the resource the command guards, and have the resource refuse an
// epoch lower than the highest it has seen: the successor's epoch is
// higher, so once it has written, the old command's writes are refused.
// The same holds for a command that is itself frozen, and on systems
// without a parent-death signal.
//
// # Exit codes
//
// The command's status is passed through: its exit code, or 128 plus the
// signal that killed it, as shells report it. The supervisor's own are
// [ExitLost] (3, as ownerfx.ExitCodeLost), [ExitFailed] (125), and
// [ExitCannotRun] (126) and [ExitNotFound] (127) for a command that could
// not start; a SIGINT, SIGTERM or SIGHUP before the command starts gives
// 128 plus its number (130, 143, 129), as if it had killed the supervisor.
package supervise
