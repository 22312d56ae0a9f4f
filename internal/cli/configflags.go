package cli

import (
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/internal/config"
)

// configFlags registers --config and one flag per setting that has a flag
// name in config.Settings, and turns the flags the user set into
// config.Options (unset flags do not override the file or environment).
type configFlags struct {
	cmd        *cobra.Command
	configFile string
	values     map[string]*string
}

func addConfigFlags(cmd *cobra.Command) *configFlags {
	cf := &configFlags{cmd: cmd, values: map[string]*string{}}
	fs := cmd.Flags()
	fs.StringVar(&cf.configFile, "config", "", "YAML configuration file (env "+config.EnvConfigFile+")")
	for _, s := range config.Settings() {
		if s.Flag == "" {
			continue
		}
		v := new(string)
		fs.StringVar(v, s.Flag, "", flagUsage(s))
		cf.values[s.Flag] = v
	}
	return cf
}

// flagUsage is a setting's help line. The settings table marks code with
// backquotes for the Markdown reference; pflag would take the first
// backquoted word as the flag's placeholder (--base-url {base_url}/w/...),
// so the help text drops them and the placeholder stays "string".
func flagUsage(s config.Setting) string {
	return strings.ReplaceAll(s.Description+" (env "+s.Env+"; default "+s.Default+")", "`", "")
}

// load resolves the configuration with flags > env > file > defaults.
func (cf *configFlags) load() (config.Resolved, error) {
	opts := config.Options{ConfigFile: cf.configFile, Flags: map[string]string{}}
	for name, v := range cf.values {
		if cf.cmd.Flags().Changed(name) {
			opts.Flags[name] = *v
		}
	}
	return config.Load(opts)
}

// newLogger builds the process logger: JSON or text on w at the level
// configured.
func newLogger(w io.Writer, cfg config.Resolved) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
