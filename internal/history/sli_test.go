package history

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/chaosd/chaosd/internal/journal"
)

func sliPoints(from time.Time, vs ...float64) []journal.SLIPoint {
	ps := make([]journal.SLIPoint, len(vs))
	for i, v := range vs {
		ps[i] = journal.SLIPoint{At: from.Add(time.Duration(i) * time.Second), Value: v}
	}
	return ps
}

// journalSeries is a series as the test compares it: a gap is "|".
type journalSeries struct {
	Name   string
	Values []string
}

func TestSLIPanels(t *testing.T) {
	run := func(exp, start string, at time.Time, slis ...journal.SLIResult) journal.Record {
		return journal.Record{RunID: start, Experiment: exp, StartedAt: at, SLIs: slis}
	}
	errRatio := func(base, fault []journal.SLIPoint) journal.SLIResult {
		return journal.SLIResult{Name: "error-ratio", Baseline: base, Fault: fault}
	}
	tests := []struct {
		name string
		recs []journal.Record
		want string
	}{
		{"no SLIs, no panels", []journal.Record{run("abort", "r1", t0)}, "[]"},
		{"an SLI without samples draws nothing",
			[]journal.Record{run("abort", "r1", t0, errRatio(nil, nil))}, "[]"},
		{"one run: baseline and fault series",
			[]journal.Record{run("abort", "r1", t0, errRatio(sliPoints(t0, 0, 0.01), sliPoints(t0.Add(time.Minute), 0.5)))},
			"[SLI error-ratio (abort): [{baseline [0 0.01]} {during and after the fault [0.5]}]]"},
		{"two runs of one experiment share a panel, with a gap between them",
			[]journal.Record{
				run("abort", "r1", t0, errRatio(sliPoints(t0, 0), sliPoints(t0.Add(time.Minute), 0.5))),
				run("abort", "r2", t0.Add(10*time.Minute), errRatio(sliPoints(t0.Add(10*time.Minute), 0.02), sliPoints(t0.Add(11*time.Minute), 0.4))),
			},
			"[SLI error-ratio (abort): [{baseline [0 | 0.02]} {during and after the fault [0.5 | 0.4]}]]"},
		{"the same SLI name in two experiments is two panels",
			[]journal.Record{
				run("abort", "r1", t0, errRatio(sliPoints(t0, 0), nil)),
				run("delay", "r2", t0, errRatio(sliPoints(t0, 1), nil)),
			},
			"[SLI error-ratio (abort): [{baseline [0]} {during and after the fault []}] SLI error-ratio (delay): [{baseline [1]} {during and after the fault []}]]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range SLIPanels(tt.recs) {
				var ss []journalSeries
				for _, s := range p.Series {
					js := journalSeries{Name: s.Name}
					for _, pt := range s.Points {
						v := fmt.Sprint(pt.V)
						if math.IsNaN(pt.V) {
							v = "|"
						}
						js.Values = append(js.Values, v)
					}
					ss = append(ss, js)
				}
				got = append(got, p.Title+": "+fmt.Sprint(ss))
			}
			if g := fmt.Sprint(got); g != tt.want {
				t.Errorf("got  %s\nwant %s", g, tt.want)
			}
		})
	}
}

func TestSLIPanelsAreBounded(t *testing.T) {
	var recs []journal.Record
	for i := range maxSLIPanels + 3 {
		recs = append(recs, journal.Record{Experiment: fmt.Sprintf("e%d", i),
			SLIs: []journal.SLIResult{{Name: "s", Baseline: sliPoints(t0, 1)}}})
	}
	if n := len(SLIPanels(recs)); n != maxSLIPanels {
		t.Errorf("%d panels, want at most %d", n, maxSLIPanels)
	}
}
