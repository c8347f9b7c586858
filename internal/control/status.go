package control

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/chaosd/chaosd/internal/score"
)

// Status is the summary the leader publishes for `chaosd status` and the
// status page. Lists are bounded so the annotation stays far below the
// 256 KiB limit on an object's annotations.
type Status struct {
	UpdatedAt time.Time `json:"updatedAt"`
	Leader    string    `json:"leader"`
	// State is running, paused or stopping.
	State        string   `json:"state"`
	PauseReasons []string `json:"pauseReasons,omitempty"`
	// Pauses are the same pauses with their kind and until when.
	Pauses      []Pause `json:"pauses,omitempty"`
	ConfigHash  string  `json:"configHash,omitempty"`
	ConfigError string  `json:"configError,omitempty"`
	// Unguarded is set when the config opts out of every guard
	// (guard.unguarded): every run that completes passes.
	Unguarded bool             `json:"unguarded,omitempty"`
	Next      []NextActivation `json:"next,omitempty"`
	Active    []ActiveFault    `json:"active,omitempty"`
	Recent    []RunSummary     `json:"recent,omitempty"`
	// Guard is what the guard sees now; nil before its first evaluation.
	Guard *GuardState `json:"guard,omitempty"`
	// Scores are the resiliency scores, lowest first, those without a
	// counted run last.
	Scores []Score `json:"scores,omitempty"`
	// Audit lists the latest pauses, resumes, stops and config changes
	// and who made them, newest first.
	Audit []AuditSummary `json:"audit,omitempty"`
}

// AuditSummary is one audited action (journal.AuditEntry, shortened).
type AuditSummary struct {
	At time.Time `json:"at"`
	// Action is pause, stop, resume, config or config-rejected.
	Action string `json:"action"`
	Who    string `json:"who"`
	From   string `json:"from,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// Score is one experiment's resiliency score against one workload
// (docs/verdicts.md#resiliency-score).
type Score struct {
	Experiment string `json:"experiment"`
	Workload   string `json:"workload"`
	// Ratio is 0 to 1, absent when no run in the window counted: no data
	// is never a perfect score.
	Ratio *float64 `json:"ratio,omitempty"`
	// Counted runs judge resilience (Passed of them passed); Excluded
	// ones in the window do not (error, no-effect, aborted, skipped, dry
	// runs). Window is the most runs looked at.
	Counted  int `json:"counted"`
	Passed   int `json:"passed"`
	Excluded int `json:"excluded"`
	Window   int `json:"window"`
}

// Percent formats the score for people: "87.5%", or "no data".
func (s Score) Percent() string {
	if s.Ratio == nil {
		return score.NoData
	}
	return score.Percent(*s.Ratio)
}

// NextActivation is when an experiment runs next.
type NextActivation struct {
	Experiment string    `json:"experiment"`
	At         time.Time `json:"at"`
	Scheduled  time.Time `json:"scheduled"`
}

// ActiveFault is a fault currently held in the cluster.
type ActiveFault struct {
	RunID      string    `json:"runId"`
	Experiment string    `json:"experiment"`
	Action     string    `json:"action"`
	Target     string    `json:"target"`
	Since      time.Time `json:"since"`
}

// RunSummary is one finished run.
type RunSummary struct {
	RunID      string    `json:"runId"`
	Experiment string    `json:"experiment"`
	Verdict    string    `json:"verdict"`
	Reason     string    `json:"reason,omitempty"`
	FinishedAt time.Time `json:"finishedAt"`
}

// MaxListed bounds each list in a published Status.
const MaxListed = 20

// PublishStatus writes the status annotation.
func PublishStatus(ctx context.Context, kube kubernetes.Interface, ref Ref, st Status) error {
	st.Next = truncate(st.Next)
	st.Active = truncate(st.Active)
	st.Recent = truncate(st.Recent)
	st.Scores = truncate(st.Scores)
	st.Audit = truncate(st.Audit)
	if g := st.Guard; g != nil {
		c := *g
		if am := c.Alertmanager; am != nil {
			amc := *am
			amc.Alerts = truncate(amc.Alerts)
			c.Alertmanager = &amc
		}
		if p := c.Prometheus; p != nil {
			pc := *p
			pc.Checks = truncate(pc.Checks)
			c.Prometheus = &pc
		}
		c.Problems = truncate(c.Problems)
		st.Guard = &c
	}
	val, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode status: %w", err)
	}
	return patchAnnotation(ctx, kube, ref, AnnotationStatus, string(val))
}

// ReadStatus returns the published status and any manual pause.
func ReadStatus(ctx context.Context, kube kubernetes.Interface, ref Ref) (Status, *ManualPause, error) {
	cm, err := kube.CoreV1().ConfigMaps(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		return Status{}, nil, fmt.Errorf("read configmap %s: %w", ref, err)
	}
	var st Status
	if raw := cm.Annotations[AnnotationStatus]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &st); err != nil {
			return Status{}, nil, fmt.Errorf("decode %s on %s: %w", AnnotationStatus, ref, err)
		}
	}
	p, ok, err := PauseFrom(cm)
	if !ok {
		return st, nil, err
	}
	return st, &p, err
}

func truncate[T any](s []T) []T {
	if len(s) > MaxListed {
		return s[:MaxListed]
	}
	return s
}
