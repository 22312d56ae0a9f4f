package cli

import (
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/internal/bench"
)

// benchRun is what `latchkey bench` measures: the scenarios named by
// --scenario plus those the older flags (--jwt-bearer, --flows,
// --scale-workspace) ask for, which stay as aliases.
type benchRun struct {
	cfg        bench.Config
	scenarios  []string
	algs       []string
	introspect bool
	signFor    time.Duration
	jwtAlgs    []string
	flowsAlg   string
	scale      bench.Scale
}

// resolveScenarios adds the aliases' scenarios and refuses unknown names.
func (r *benchRun) resolveScenarios(jwtBearer, flows bool) error {
	if jwtBearer {
		r.scenarios = append(r.scenarios, bench.ScenarioJWTBearer)
	}
	if flows {
		r.scenarios = append(r.scenarios, bench.ScenarioSignInFlow)
	}
	if r.scale.Workspace != "" {
		r.scenarios = append(r.scenarios, bench.ScenarioScale)
	}
	for _, s := range r.scenarios {
		if !slices.Contains(bench.Scenarios, s) {
			return usageError{fmt.Errorf("unknown scenario %q (known: %v)", s, bench.Scenarios)}
		}
	}
	if slices.Contains(r.scenarios, bench.ScenarioScale) && r.scale.Workspace == "" {
		return usageError{fmt.Errorf("the scale scenario needs --scale-workspace")}
	}
	return nil
}

// run measures the scenarios in the order of bench.Scenarios.
func (r *benchRun) run(cmd *cobra.Command) ([]bench.Row, error) {
	ctx, progress := cmd.Context(), cmd.ErrOrStderr()
	var rows []bench.Row
	add := func(more []bench.Row, err error) error {
		rows = append(rows, more...)
		return err
	}
	one := func(row bench.Row, err error) ([]bench.Row, error) {
		if err != nil {
			return nil, err
		}
		return []bench.Row{row}, nil
	}
	for _, s := range bench.Scenarios {
		if !slices.Contains(r.scenarios, s) {
			continue
		}
		var err error
		switch s {
		case bench.ScenarioClientCredentials:
			err = add(bench.Run(ctx, r.cfg, bench.Plan{Algs: r.algs, Introspect: r.introspect, SignFor: r.signFor}, progress))
		case bench.ScenarioPolicy:
			err = add(bench.RunPolicy(ctx, r.cfg, r.algs, r.signFor, progress))
		case bench.ScenarioJWTBearer:
			err = add(bench.RunJWTBearer(ctx, r.cfg, r.jwtAlgs, r.signFor, progress))
		case bench.ScenarioRefresh:
			err = add(bench.RunRefresh(ctx, r.cfg, r.flowsAlg, r.signFor, progress))
		case bench.ScenarioCode:
			err = add(one(bench.RunCode(ctx, r.cfg, r.flowsAlg, r.signFor, progress)))
		case bench.ScenarioFlow:
			err = add(one(bench.RunFlow(ctx, r.cfg, r.flowsAlg, r.signFor, progress)))
		case bench.ScenarioSignInFlow:
			err = add(bench.RunFlows(ctx, r.cfg, r.flowsAlg, progress))
		case bench.ScenarioScale:
			if r.scale.Key == "" {
				r.scale.Key = os.Getenv(envSeedKey)
			}
			err = add(one(bench.RunScale(ctx, r.cfg, r.scale, r.signFor, progress)))
		}
		if err != nil {
			return rows, err
		}
	}
	return rows, nil
}
