package config

import "strings"

// Reference renders the configuration reference as a Markdown table
// (key, environment variable, flag, default, meaning) for the README.
// It is generated from Settings, so it lists every key there is.
func Reference() string {
	var b strings.Builder
	b.WriteString("| key | environment | flag | default | meaning |\n")
	b.WriteString("|---|---|---|---|---|\n")
	b.WriteString("| (file) | `" + EnvConfigFile + "` | `--config` | (none) | YAML configuration file; unknown keys are errors. |\n")
	for _, s := range Settings() {
		flag := "—"
		if s.Flag != "" {
			flag = "`--" + s.Flag + "`"
		}
		row := []string{"`" + s.Key + "`", "`" + s.Env + "`", flag, s.Default, s.Description}
		b.WriteString("| " + strings.Join(escapeCells(row), " | ") + " |\n")
	}
	b.WriteString("\nPrecedence: defaults < YAML file < environment < flags.\n")
	return b.String()
}

func escapeCells(cells []string) []string {
	for i, c := range cells {
		cells[i] = strings.ReplaceAll(c, "|", `\|`)
	}
	return cells
}
