package lease

import "golang.org/x/sys/windows"

func statFileSystem(dir string) (fileSystem, error) {
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return fileSystem{}, err
	}
	root := make([]uint16, windows.MAX_LONG_PATH)
	if err := windows.GetVolumePathName(p, &root[0], uint32(len(root))); err != nil {
		return fileSystem{}, err
	}
	return windowsFileSystem(windows.UTF16ToString(root), windows.GetDriveType(&root[0])), nil
}
