package config

import (
	"fmt"
	"strings"
	"text/template"
)

// LandingVars are what a landing query may use.
type LandingVars struct {
	// Namespace and Name of the VirtualService.
	Namespace, Name string
	// Host is the VirtualService's first host as a cluster-local name.
	Host string
	// Window is the hold, as a PromQL duration such as 30s.
	Window string
	// Flag is Envoy's response flag of the fault: FI (abort) or DI (delay).
	Flag string
}

// ParseLandingQuery parses a landing query template and renders it once
// with sample values, so a reference to an unknown variable is an error
// at load time, not during a run.
func ParseLandingQuery(q string) (*template.Template, error) {
	t, err := template.New("landing").Option("missingkey=error").Parse(q)
	if err != nil {
		return nil, fmt.Errorf("invalid template: %w", err)
	}
	if _, err := RenderLandingQuery(t, LandingVars{Namespace: "ns", Name: "vs", Host: "vs.ns.svc.cluster.local", Window: "1m", Flag: "FI"}); err != nil {
		return nil, err
	}
	return t, nil
}

// templateData is what a query sees: lower-case names, like the SLI
// queries' {{.namespace}} and {{.host}}, so one config spells them one way.
func (v LandingVars) templateData() map[string]string {
	return map[string]string{"namespace": v.Namespace, "name": v.Name, "host": v.Host, "window": v.Window, "flag": v.Flag}
}

// RenderLandingQuery fills a parsed landing query.
func RenderLandingQuery(t *template.Template, v LandingVars) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, v.templateData()); err != nil {
		return "", fmt.Errorf("render landing query: %w", err)
	}
	return b.String(), nil
}
