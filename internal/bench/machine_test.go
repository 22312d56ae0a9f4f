package bench

import (
	"runtime"
	"testing"
)

func TestMachineShare(t *testing.T) {
	a := machineTicks{total: 1000, idle: 400, steal: 10, ok: true}
	b := machineTicks{total: 2000, idle: 600, steal: 60, ok: true}
	m := shareBetween(a, b)
	if !m.Known || m.Idle != 0.2 || m.Steal != 0.05 {
		t.Fatalf("share = %+v, want idle 0.2 steal 0.05", m)
	}
	if shareBetween(a, a).Known || shareBetween(machineTicks{}, b).Known {
		t.Fatal("an empty or unreadable interval reads as known")
	}
	if machineCell(m) != "20% / 5.0%" || machineCell(MachineShare{}) != "-" {
		t.Fatalf("cells %q %q", machineCell(m), machineCell(MachineShare{}))
	}
	if runtime.GOOS == "linux" && !readMachineTicks().ok {
		t.Fatal("/proc/stat unreadable on Linux")
	}
}
