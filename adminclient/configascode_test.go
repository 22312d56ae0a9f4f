package adminclient_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/adminclient"
)

// TestConfigAsCodeMethods exports a workspace, changes it and applies it
// back: the dry run answers the change and makes none, the apply makes it.
func TestConfigAsCodeMethods(t *testing.T) {
	baseURL, token := startLatchkey(t)
	c := adminclient.New(baseURL, token)
	ctx := t.Context()
	raw, err := c.ExportWorkspace(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil || doc["apiVersion"] != "latchkey/v1" {
		t.Fatalf("export: %v %s", err, raw)
	}
	doc["workspace"].(map[string]any)["name"] = "Renamed"
	changed, _ := json.Marshal(doc)
	res, err := c.ApplyWorkspace(ctx, "default", changed, adminclient.ApplyOptions{DryRun: true})
	if err != nil || !res.DryRun || res.Applied || len(res.Plans) != 1 || len(res.Plans[0].Changes) != 1 ||
		!strings.Contains(res.Diff, `~ workspace.name: "Default" → "Renamed"`) {
		t.Fatalf("dry run: %+v %v", res, err)
	}
	if ws, _ := c.Workspaces().Get(ctx, "default"); ws.Name != "Default" {
		t.Fatalf("dry run renamed the workspace: %q", ws.Name)
	}
	if res, err = c.ApplyAll(ctx, changed, adminclient.ApplyOptions{}); err != nil || !res.Applied {
		t.Fatalf("apply: %+v %v", res, err)
	}
	if ws, _ := c.Workspaces().Get(ctx, "default"); ws.Name != "Renamed" {
		t.Fatalf("apply did not rename the workspace: %q", ws.Name)
	}
	all, err := c.ExportAll(ctx)
	if err != nil || !strings.Contains(string(all), `"kind":"List"`) {
		t.Fatalf("export all: %v %s", err, all)
	}
}
