package cli

import "runtime/debug"

// version is set at build time with
// -ldflags "-X github.com/latchkey/latchkey/internal/cli.version=v1.2.3".
var version = ""

// Version is the build's version: the linker-set value, else the module
// version and VCS revision recorded by the Go toolchain.
func Version() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " (" + s.Value[:12] + ")"
		}
	}
	return v
}
