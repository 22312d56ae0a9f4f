package e2etest

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// listenTimeout bounds how long a child process may take to listen.
const listenTimeout = 30 * time.Second

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	buildOut  []byte
)

// Main runs the tests of a package that starts `latchkey serve`
// processes, then removes the binary LatchkeyBinary built. Call it from
// TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		_ = os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

// LatchkeyBinary builds cmd/latchkey from the module root once per test
// binary run and returns its path. The package's TestMain should call
// Main, which removes it.
func LatchkeyBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "latchkey-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "latchkey")
		gomod, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil || strings.TrimSpace(string(gomod)) == "" {
			buildErr = err
			buildOut = []byte("go env GOMOD: no module")
			return
		}
		cmd := exec.Command("go", "build", "-o", builtBin, "./cmd/latchkey")
		cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil || builtBin == "" {
		t.Fatalf("go build ./cmd/latchkey: %v\n%s", buildErr, buildOut)
	}
	return builtBin
}

// Fleet is what the `latchkey serve` processes of one test share, as
// nodes behind one load balancer: the binary, the admin token and one
// master key, so that each can read what another wrote to the database.
type Fleet struct {
	Bin   string
	Admin string
	// Env is the parent's environment without any LATCHKEY_* setting,
	// plus the master key, the admin token, a raised failed-client-
	// authentication budget and the extra settings given to NewFleet.
	Env []string
}

// NewFleet builds the binary, makes an admin token (adminPrefix followed
// by random characters) and a master key, and remembers both in secrets.
func NewFleet(t testing.TB, adminPrefix string, secrets *SecretList, extraEnv ...string) *Fleet {
	t.Helper()
	f := &Fleet{Bin: LatchkeyBinary(t), Admin: adminPrefix + RandomToken(32)}
	masterKey := base64.StdEncoding.EncodeToString(RandomBytes(32))
	secrets.Add(f.Admin)
	secrets.Add(masterKey)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LATCHKEY_") {
			f.Env = append(f.Env, kv)
		}
	}
	f.Env = append(f.Env,
		"LATCHKEY_MASTER_KEYS="+masterKey,
		"LATCHKEY_ADMIN_TOKEN="+f.Admin,
		// Every request comes from 127.0.0.1 and many fail on purpose.
		"LATCHKEY_LIMITS_FAILED_AUTH_BURST=100000",
	)
	f.Env = append(f.Env, extraEnv...)
	return f
}

// Start runs `latchkey serve --listen 127.0.0.1:0 --log-level debug` with
// args and returns once it listens. The process is stopped (SIGTERM, exit
// status 0 required) at the end of the test unless stopped before.
func (f *Fleet) Start(t testing.TB, name string, args ...string) *Process {
	t.Helper()
	p := &Process{Name: name, Logs: &SyncBuffer{}, done: make(chan error, 1)}
	all := append([]string{"serve", "--listen", "127.0.0.1:0", "--log-level", "debug"}, args...)
	p.cmd = exec.Command(f.Bin, all...)
	p.cmd.Env = f.Env
	p.cmd.Stdout, p.cmd.Stderr = p.Logs, p.Logs
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { p.Stop(t) })
	p.Addr = p.waitListening(t)
	return p
}

// Process is one `latchkey serve` child process.
type Process struct {
	Name string
	Addr string      // host:port from the "latchkey listening" log line
	Logs *SyncBuffer // its stdout and stderr

	cmd  *exec.Cmd
	done chan error
	once sync.Once
	gone bool // killed, or died before listening: nothing to stop
}

// waitListening returns the address from the "latchkey listening" line.
func (p *Process) waitListening(t testing.TB) string {
	t.Helper()
	deadline := time.Now().Add(listenTimeout)
	for time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(p.Logs.String()))
		for sc.Scan() {
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "latchkey listening" && line.Addr != "" {
				return line.Addr
			}
		}
		select {
		case err := <-p.done:
			p.gone = true
			t.Fatalf("%s exited before listening: %v\n%s", p.Name, err, p.Logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%s did not listen within %s:\n%s", p.Name, listenTimeout, p.Logs.String())
	return ""
}

// Stop sends SIGTERM and requires a clean exit (status 0) within
// StopTimeout (graceful shutdown). It does nothing for a process that was
// killed, died before listening or was stopped before.
func (p *Process) Stop(t testing.TB) {
	t.Helper()
	p.once.Do(func() {
		if !p.gone {
			p.terminate(t)
		}
	})
}

func (p *Process) terminate(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("SIGTERM %s: %v", p.Name, err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("%s exit after SIGTERM: %v, want status 0\n%s", p.Name, err, p.Logs.String())
		}
	case <-time.After(StopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("%s did not stop within %s of SIGTERM", p.Name, StopTimeout)
	}
}

// StopAndCheckLog stops the process and then searches its log for every
// remembered secret (Q6). A killed process is left alone (its log is
// checked by whoever killed it), and so is one that never listened.
func (p *Process) StopAndCheckLog(t testing.TB, secrets *SecretList) {
	t.Helper()
	if p.gone {
		return
	}
	p.Stop(t)
	secrets.CheckLog(t, p.Name, p.Logs.String())
}

// Kill sends SIGKILL (no shutdown, no flushing) and waits for the exit.
func (p *Process) Kill(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL %s: %v", p.Name, err)
	}
	<-p.done
	p.gone = true
}
