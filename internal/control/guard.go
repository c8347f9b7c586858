package control

import "time"

// GuardState is what chaosd's guard sees now: the last evaluation the
// daemon made (for a run, or for the status page when no run asked), with
// the configuration that explains it. It is plain data, rendered by the
// status page and by `chaosd status` alike.
type GuardState struct {
	// State is ok, blocked or unknown; empty before the first evaluation.
	State       string    `json:"state,omitempty"`
	EvaluatedAt time.Time `json:"evaluatedAt,omitzero"`
	// Mode is the question the evaluation answered: preflight, poll or
	// status (a preflight made only to show the state).
	Mode         string             `json:"mode,omitempty"`
	Alertmanager *AlertmanagerGuard `json:"alertmanager,omitempty"`
	Prometheus   *PrometheusGuard   `json:"prometheus,omitempty"`
	// Problems say why a source could not be evaluated.
	Problems []string `json:"problems,omitempty"`
}

// AlertmanagerGuard is the Alertmanager side of the guard.
type AlertmanagerGuard struct {
	// URL is Alertmanager's address without credentials.
	URL string `json:"url"`
	// AlertsURL is Alertmanager's API view of the alerts the block
	// matchers select (the one view every Alertmanager build serves).
	AlertsURL string `json:"alertsURL,omitempty"`
	State     string `json:"state,omitempty"`
	// Block are the matchers an alert must all match to block a run; empty
	// means every alert blocks. Ignore are the matchers that exempt one.
	Block  []string `json:"block,omitempty"`
	Ignore []string `json:"ignore,omitempty"`
	// Alerts are those matching the block matchers now (firing in
	// Alertmanager, or pending in Prometheus when blockPending is set).
	Alerts []GuardAlert `json:"alerts,omitempty"`
}

// GuardAlert is one alert that blocks.
type GuardAlert struct {
	Name  string `json:"name"`
	State string `json:"state"`
	// Source is alertmanager (firing) or prometheus_pending.
	Source string    `json:"source"`
	Since  time.Time `json:"since,omitzero"`
	Labels string    `json:"labels,omitempty"`
}

// PrometheusGuard is the Prometheus side of the guard.
type PrometheusGuard struct {
	URL    string       `json:"url"`
	State  string       `json:"state,omitempty"`
	Checks []GuardCheck `json:"checks,omitempty"`
}

// GuardCheck is one Prometheus check with its last value.
type GuardCheck struct {
	Name string `json:"name"`
	Expr string `json:"expr"`
	// Bound is the condition it must meet: "≥ 1", "in [0, 0.05]", "empty".
	Bound string `json:"bound"`
	State string `json:"state"`
	// Value is the number the decision was made on ("" without data).
	Value  string `json:"value,omitempty"`
	Series string `json:"series,omitempty"`
	Reason string `json:"reason,omitempty"`
	// QueryURL is Prometheus's API view of the query.
	QueryURL string `json:"queryURL,omitempty"`
}

// Pause is one reason chaosd does not start runs, and until when.
type Pause struct {
	// Kind is config, manual or cooldown.
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
	// Until is when a timed pause ends; zero for one that lasts until
	// UntilText happens.
	Until     time.Time `json:"until,omitzero"`
	UntilText string    `json:"untilText,omitempty"`
}
