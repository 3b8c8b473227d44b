package lease

import "os"

// createFile opens path for writing, creating or truncating it; flag is
// added to the open flags (O_EXCL).
func createFile(path string, flag int) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|flag, 0o600)
}

// readFile returns the content of path.
func readFile(path string) ([]byte, error) { return os.ReadFile(path) }

// beatFile is a holder's beat, open for its whole tenure.
type beatFile = *os.File

// openBeat creates or truncates the beat at path, for reading and writing.
func openBeat(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
}
