package history

import (
	"math"
	"time"

	"github.com/chaosd/chaosd/internal/chart"
	"github.com/chaosd/chaosd/internal/journal"
)

// maxSLIPanels bounds how many SLI panels one chart gets, so a config
// with many SLIs does not bury the guard's own series.
const maxSLIPanels = 4

// SLIPanels charts the SLI samples the runs journaled: one panel per
// experiment and SLI, in first-seen order, with the baseline and the
// fault window as two series. The samples are the ones the verdict was
// judged on, so the chart needs no Prometheus and cannot disagree with
// the journal. Runs are separated by a gap, never joined by a line.
func SLIPanels(recs []journal.Record) []chart.Panel {
	var (
		panels []chart.Panel
		index  = map[string]int{}
	)
	for _, r := range recs {
		for _, s := range r.SLIs {
			if len(s.Baseline) == 0 && len(s.Fault) == 0 {
				continue
			}
			key := r.Experiment + "\x00" + s.Name
			i, ok := index[key]
			if !ok {
				if len(panels) == maxSLIPanels {
					continue
				}
				i = len(panels)
				index[key] = i
				panels = append(panels, chart.Panel{Title: "SLI " + s.Name + " (" + r.Experiment + ")",
					Series: []chart.Series{{Name: "baseline"}, {Name: "during and after the fault"}}})
			}
			p := &panels[i]
			p.Series[0].Points = appendRun(p.Series[0].Points, s.Baseline)
			p.Series[1].Points = appendRun(p.Series[1].Points, s.Fault)
		}
	}
	return panels
}

// appendRun adds one run's samples to a series, after a gap point when
// the series already holds another run's.
func appendRun(points []chart.Point, samples []journal.SLIPoint) []chart.Point {
	if len(samples) == 0 {
		return points
	}
	if len(points) > 0 {
		points = append(points, chart.Point{T: midpoint(points[len(points)-1].T, samples[0].At), V: math.NaN()})
	}
	for _, s := range samples {
		points = append(points, chart.Point{T: s.At, V: s.Value})
	}
	return points
}

func midpoint(a, b time.Time) time.Time { return a.Add(b.Sub(a) / 2) }
