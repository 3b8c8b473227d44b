package lease

// An fsOp is one change this participant made to the lease's files, as
// reported to File.oplog after it succeeded: what a test needs to know
// which of them would survive a crash of the machine.
type fsOp struct {
	Op   string // one of the op constants
	Path string
	To   string // the new name, for opLink and opRename
	Data []byte // the whole content after opWrite
}

const (
	opCreate  = "create"  // a file created, or truncated if it existed
	opWrite   = "write"   // a file's content replaced by Data
	opSync    = "sync"    // a file's content made durable
	opSyncDir = "syncdir" // a directory's entries made durable
	opMkdir   = "mkdir"
	opRemove  = "remove"
	opRename  = "rename"
	opLink    = "link"
)

// op reports a change to oplog, if a test has set it.
func (f *File) op(kind, path, to string, data []byte) {
	if f.oplog != nil {
		f.oplog(fsOp{Op: kind, Path: path, To: to, Data: data})
	}
}
