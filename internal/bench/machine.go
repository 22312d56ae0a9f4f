package bench

import (
	"os"
	"strconv"
	"strings"
)

// machineTicks is the machine-wide CPU time from /proc/stat, in clock
// ticks: all of it, idle, and stolen by the hypervisor for other guests.
type machineTicks struct {
	total, idle, steal int64
	ok                 bool
}

// readMachineTicks reads the aggregate "cpu" line of /proc/stat (Linux).
func readMachineTicks() machineTicks {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineTicks{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line)
	if len(fields) < 9 || fields[0] != "cpu" {
		return machineTicks{}
	}
	var t machineTicks
	for i, f := range fields[1:] {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return machineTicks{}
		}
		if i < 8 { // user nice system idle iowait irq softirq steal; guest time is inside user
			t.total += v
		}
		switch i {
		case 3, 4:
			t.idle += v
		case 7:
			t.steal += v
		}
	}
	t.ok = true
	return t
}

// MachineShare is how the machine's CPU time went during a run: the
// fraction idle and the fraction the hypervisor stole for other guests.
// Steal is what makes one process's rate swing between rounds minutes
// apart with nothing changed in it (docs/benchmarks.md).
type MachineShare struct {
	Idle, Steal float64
	Known       bool
}

func shareBetween(a, b machineTicks) MachineShare {
	d := b.total - a.total
	if !a.ok || !b.ok || d <= 0 {
		return MachineShare{}
	}
	return MachineShare{Idle: float64(b.idle-a.idle) / float64(d), Steal: float64(b.steal-a.steal) / float64(d), Known: true}
}
