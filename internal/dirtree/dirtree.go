// Package dirtree reads a directory tree whole, for tests that show that
// something wrote nothing there.
package dirtree

import (
	"io/fs"
	"os"
	"path/filepath"
)

// Read returns every file and directory under dir, dir included, with its
// mode, modification time and, for a regular file, its content.
func Read(dir string) (map[string]string, error) {
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		v := fi.Mode().String() + " " + fi.ModTime().String()
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			v += " " + string(b)
		}
		m[p] = v
		return nil
	})
	return m, err
}

// Diff lists how after differs from before: entries changed, created and
// removed, one line each.
func Diff(before, after map[string]string) []string {
	var d []string
	for p, v := range before {
		w, ok := after[p]
		switch {
		case !ok:
			d = append(d, p+" was removed")
		case w != v:
			d = append(d, p+" changed: "+v+" -> "+w)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			d = append(d, p+" was created")
		}
	}
	return d
}
