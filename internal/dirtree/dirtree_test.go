package dirtree

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestReadAndDiff(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := os.WriteFile(a, []byte("1"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, []byte("2"), 0o600); err != nil {
		t.Fatal(err)
	}
	before, err := Read(dir)
	if err != nil || len(before) != 3 {
		t.Fatalf("Read: %v, %v", before, err)
	}
	if d := Diff(before, before); len(d) != 0 {
		t.Fatalf("Diff of a tree with itself: %v", d)
	}
	if err := os.WriteFile(a, []byte("3"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "c"), 0o700); err != nil {
		t.Fatal(err)
	}
	after, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	d := Diff(before, after)
	slices.Sort(d)
	want := []string{dir + " changed", a + " changed", b + " was removed", filepath.Join(dir, "c") + " was created"}
	if len(d) != len(want) {
		t.Fatalf("Diff: %q", d)
	}
	for _, w := range want {
		if !slices.ContainsFunc(d, func(l string) bool { return strings.HasPrefix(l, w) }) {
			t.Errorf("Diff %q lacks %q", d, w)
		}
	}
	if _, err := Read(filepath.Join(dir, "none")); err == nil {
		t.Fatal("Read of a missing directory succeeded")
	}
}
