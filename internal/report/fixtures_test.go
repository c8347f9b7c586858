package report

import (
	"time"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/internal/targets"
)

var (
	t0        = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	generated = time.Date(2025, 3, 15, 8, 0, 0, 0, time.UTC)
)

const hostile = `<script>alert("x")</script> | *bold* [link](http://evil.example/)`

func ptr[T any](v T) *T { return &v }

// fixtures covers every section of a report, including text an attacker
// could put into labels and messages.
func fixtures() []journal.Record {
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	weak := journal.Record{
		SchemaVersion: 1, RunID: "20250314-0900-abort", Experiment: "checkout-abort",
		Action: config.ActionHTTPAbort, TargetKind: config.TargetVirtualService,
		ConfigHash: "sha256:1f2e3d", Seed: 18446744073709551614,
		StartedAt: at(0), FinishedAt: at(95 * time.Second),
		Verdict: journal.VerdictWeakness, Reason: "alert CheckoutErrorRate fired 40s into the hold",
		Evidence: []journal.Evidence{
			{Source: journal.SourceAlertmanager, Name: "CheckoutErrorRate", Labels: map[string]string{"severity": "critical", "service": "checkout", "note": hostile}, At: at(40 * time.Second), Message: "firing"},
			{Source: journal.SourcePrometheus, Name: "error-ratio", Value: ptr(0.4213), Bound: "<= 0.05", At: at(41 * time.Second)},
		},
		Selection: journal.Selection{
			Considered: 4, Eligible: 1,
			Rejections:     map[string]int{"excluded namespace": 2, "opt-in label missing": 1},
			RejectedSample: []journal.Rejection{{Target: "virtualservice/kube-system/dns", Reason: "excluded namespace"}},
			Chosen:         []targets.Target{{Kind: config.TargetVirtualService, Namespace: "shop", Name: "checkout"}},
		},
		Injections: []journal.Injection{{Target: "virtualservice/shop/checkout", Action: config.ActionHTTPAbort, InjectedAt: at(2 * time.Second), RevertedAt: ptr(at(45 * time.Second)), Detail: "abort 50% with 503 on route 0"}},
	}
	weak.AddTimeline(at(0), journal.PhasePreflight, "", "guard healthy", nil)
	weak.AddTimeline(at(1*time.Second), journal.PhasePick, "virtualservice/shop/checkout", "1 of 4 candidates eligible", nil)
	weak.AddTimeline(at(2*time.Second), journal.PhaseInject, "virtualservice/shop/checkout", "abort 50% with 503", nil)
	weak.AddTimeline(at(40*time.Second), journal.PhaseHalt, "", "guard: "+hostile, nil)
	weak.AddTimeline(at(45*time.Second), journal.PhaseRevert, "virtualservice/shop/checkout", "fault removed", nil)
	weak.AddTimeline(at(95*time.Second), journal.PhaseVerdict, "", "weakness", nil)

	kill := journal.Record{
		SchemaVersion: 1, RunID: "20250314-1000-kill", Experiment: "web-pod-kill",
		Action: config.ActionPodKill, TargetKind: config.TargetPod, ConfigHash: "sha256:1f2e3d", Seed: 42,
		StartedAt: at(time.Hour), FinishedAt: at(time.Hour + 70*time.Second),
		Verdict: journal.VerdictPassed, Reason: "guard stayed healthy; replacement Ready after 8.2s",
		Selection:   journal.Selection{Considered: 3, Checked: 1, Eligible: 1, Chosen: []targets.Target{{Kind: config.TargetPod, Namespace: "web", Name: "web-7d9f-abcde", Owner: "Deployment/web", Node: "node-1"}}},
		Injections:  []journal.Injection{{Target: "pod/web/web-7d9f-abcde", Action: config.ActionPodKill, InjectedAt: at(time.Hour + time.Second), RevertedAt: ptr(at(time.Hour + time.Second)), NothingToRevert: true, Detail: "deleted with the pod's grace period"}},
		Replacement: &journal.Replacement{Target: "pod/web/web-7d9f-abcde", Owner: "Deployment/web", ReplacedBy: "web-7d9f-xyz12", ReadyAfterSeconds: 8.2, Ready: true},
	}
	kill.AddTimeline(at(time.Hour+time.Second), journal.PhaseInject, "pod/web/web-7d9f-abcde", "pod deleted", nil)

	broken := journal.Record{
		SchemaVersion: 1, RunID: "20250314-1100-cordon", Experiment: "node-cordon",
		Action: config.ActionNodeCordon, TargetKind: config.TargetNode, Seed: 7,
		StartedAt: at(2 * time.Hour), FinishedAt: at(2*time.Hour + 30*time.Second),
		Verdict: journal.VerdictError, Reason: "revert failed: node-2 is still cordoned, uncordon it by hand",
		Selection:  journal.Selection{Considered: 2, Eligible: 1, Chosen: []targets.Target{{Kind: config.TargetNode, Name: "node-2"}}},
		Injections: []journal.Injection{{Target: "node/node-2", Action: config.ActionNodeCordon, InjectedAt: at(2*time.Hour + time.Second), RevertError: "patch node node-2: connection refused"}},
	}
	broken.AddTimeline(at(2*time.Hour+29*time.Second), journal.PhaseRevert, "node/node-2", "uncordon", errorString("patch node node-2: connection refused"))

	load := journal.Record{
		SchemaVersion: 1, RunID: "20250314-1200-load", Experiment: "api-burst",
		Action: config.ActionHTTPLoad, TargetKind: config.TargetURL, Seed: 9,
		StartedAt: at(3 * time.Hour), FinishedAt: at(3*time.Hour + 12*time.Second),
		Verdict: journal.VerdictPassed, Reason: "guard stayed healthy",
		Selection: journal.Selection{Considered: 1, Eligible: 1, Chosen: []targets.Target{{Kind: config.TargetURL, URL: "http://api.shop.svc/healthz"}}},
		Load: &journal.LoadStats{
			Requests: 1000, Rate: 99.8, DurationSeconds: 10.02, SuccessRatio: 0.995,
			Latencies:   journal.Latencies{P50: 0.0123, P90: 0.0456, P99: 0.25, Max: 1.5},
			StatusCodes: map[string]int{"200": 995, "503": 5},
			Errors:      map[string]int{"503 Service Unavailable": 5},
		},
	}

	skipped := journal.Record{
		SchemaVersion: 1, RunID: "20250314-1300-skip", Experiment: "zone-outage", DryRun: true,
		Action: config.ActionNodeDrain, TargetKind: config.TargetZone, Seed: 11,
		StartedAt: at(4 * time.Hour), FinishedAt: at(4 * time.Hour),
		Verdict: journal.VerdictSkipped, Reason: "preflight: alert KubeNodeNotReady is firing",
		Selection: journal.Selection{},
	}

	inProgress := journal.Record{
		SchemaVersion: 1, RunID: "20250314-1400-live", Experiment: "checkout-abort",
		Action: config.ActionHTTPAbort, TargetKind: config.TargetVirtualService, Seed: 12,
		StartedAt: at(5 * time.Hour),
	}
	// Deliberately out of order: reports sort by start time.
	return []journal.Record{load, weak, skipped, kill, inProgress, broken}
}

type errorString string

func (e errorString) Error() string { return string(e) }
