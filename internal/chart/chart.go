// Package chart draws time series as inline SVG for chaosd's pages: one
// small panel per quantity (a guard check, or an SLI's request rate and
// error ratio), sharing a time axis on which fault windows are shaded and
// halts and verdicts are marked.
//
// It is a pure function of its input: no scripts, no external resources,
// nothing fetched, so a page keeps a CSP of default-src 'none'. Every text
// it prints is escaped. A panel without a single point says "no data"
// instead of drawing a flat line that would look healthy.
package chart

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
)

// Point is one sample; a NaN value is a gap.
type Point struct {
	T time.Time
	V float64
}

// Series is one line in a panel.
type Series struct {
	// Name tells series of one panel apart (their labels); may be empty.
	Name   string
	Points []Point
}

// Panel is one quantity over time, with its own y axis.
type Panel struct {
	Title string
	// Unit is appended to axis labels ("req/s", "%"); may be empty.
	Unit   string
	Series []Series
	// Bounds are horizontal reference lines (a check's min or max).
	Bounds []float64
	// NoData explains an empty panel ("no data", "query failed: …").
	NoData string
}

// Window is a time span when a fault was held.
type Window struct {
	From, To time.Time
	Label    string
}

// Mark is an instant worth pointing at: a halt, or a run's verdict.
type Mark struct {
	At    time.Time
	Label string
	// Kind is a CSS class suffix: halt, passed, weakness, error, aborted,
	// skipped.
	Kind string
}

// Chart is everything drawn: panels over [From, To].
type Chart struct {
	Title    string
	From, To time.Time
	Panels   []Panel
	Windows  []Window
	Marks    []Mark
}

// Layout, in SVG user units; the SVG scales to its container's width.
const (
	width       = 900.0
	left        = 70.0 // y labels
	right       = 20.0
	panelHeight = 90.0
	panelGap    = 34.0 // title above each panel
	axisHeight  = 22.0 // time labels below the last panel
	maxSeries   = 6
)

var colors = []string{"#1f6feb", "#8250df", "#1a7f37", "#bf3989", "#9a6700", "#0969da"}

// SVG renders c. An empty time range or no panel renders a short note.
func SVG(c Chart) template.HTML {
	var b strings.Builder
	if !c.To.After(c.From) || len(c.Panels) == 0 {
		return template.HTML(`<p class="chart-none">` + html.EscapeString(orDefault(c.Title, "chart")) + `: nothing to draw.</p>`)
	}
	height := float64(len(c.Panels))*(panelGap+panelHeight) + axisHeight
	fmt.Fprintf(&b, `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="100%%" role="img" aria-label="%s" font-family="system-ui,sans-serif" font-size="11">`,
		width, height, esc(c.Title))
	fmt.Fprintf(&b, `<title>%s</title>`, esc(c.Title))
	x := scaleX(c.From, c.To)
	for i, p := range c.Panels {
		top := float64(i)*(panelGap+panelHeight) + panelGap
		drawPanel(&b, p, top, x, c)
	}
	drawTimeAxis(&b, c, height-axisHeight+14, x)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text above went through esc
}

func drawPanel(b *strings.Builder, p Panel, top float64, x func(time.Time) float64, c Chart) {
	bottom := top + panelHeight
	fmt.Fprintf(b, `<g class="panel" data-title="%s">`, esc(p.Title))
	fmt.Fprintf(b, `<text class="panel-title" x="%g" y="%g" font-weight="600">%s</text>`, left, top-8, esc(p.Title))
	fmt.Fprintf(b, `<rect x="%g" y="%g" width="%g" height="%g" fill="#fff" stroke="#ccc"/>`, left, top, width-left-right, panelHeight)
	for _, w := range c.Windows {
		if w.To.Before(c.From) || w.From.After(c.To) {
			continue
		}
		x0, x1 := x(maxTime(w.From, c.From)), x(minTime(w.To, c.To))
		fmt.Fprintf(b, `<rect class="fault-window" x="%.1f" y="%g" width="%.1f" height="%g" fill="#f5a623" fill-opacity="0.28"><title>%s</title></rect>`,
			x0, top, math.Max(x1-x0, 1), panelHeight, esc(w.Label))
	}
	lo, hi, ok := yRange(p, c)
	if !ok {
		note := orDefault(p.NoData, "no data")
		fmt.Fprintf(b, `<text class="no-data" x="%g" y="%g" text-anchor="middle" fill="#8a4200" font-size="13">%s</text>`,
			left+(width-left-right)/2, top+panelHeight/2+4, esc(note))
	} else {
		y := func(v float64) float64 { return bottom - (v-lo)/(hi-lo)*panelHeight }
		fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="end" fill="#555">%s</text>`, left-6, top+10, esc(number(hi, p.Unit)))
		fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="end" fill="#555">%s</text>`, left-6, bottom, esc(number(lo, p.Unit)))
		for _, bound := range p.Bounds {
			fmt.Fprintf(b, `<line class="bound" x1="%g" x2="%g" y1="%.1f" y2="%.1f" stroke="#b00020" stroke-dasharray="4 3"><title>bound %s</title></line>`,
				left, width-right, y(bound), y(bound), esc(number(bound, p.Unit)))
		}
		for i, s := range p.Series {
			if i == maxSeries {
				break
			}
			if d := path(s.Points, x, y, c); d != "" {
				fmt.Fprintf(b, `<path class="series" d="%s" fill="none" stroke="%s" stroke-width="1.5"><title>%s</title></path>`,
					d, colors[i%len(colors)], esc(orDefault(s.Name, p.Title)))
			}
		}
	}
	for _, m := range c.Marks {
		if !inRange(m.At, c) {
			continue
		}
		mx := x(m.At)
		fmt.Fprintf(b, `<line class="mark mark-%s" x1="%.1f" x2="%.1f" y1="%g" y2="%g" stroke="%s" stroke-width="2"><title>%s</title></line>`,
			esc(m.Kind), mx, mx, top, bottom, markColor(m.Kind), esc(m.Label))
	}
	b.WriteString(`</g>`)
}

// path draws the points inside the range as one SVG path, lifting the
// pen at gaps (NaN) and at jumps longer than a tenth of the range.
func path(ps []Point, x func(time.Time) float64, y func(float64) float64, c Chart) string {
	var d strings.Builder
	pen := false
	var last time.Time
	gap := c.To.Sub(c.From) / 10
	for _, p := range ps {
		if !inRange(p.T, c) || math.IsNaN(p.V) || math.IsInf(p.V, 0) {
			pen = false
			continue
		}
		cmd := "L"
		if !pen || p.T.Sub(last) > gap {
			cmd = "M"
		}
		fmt.Fprintf(&d, "%s%.1f %.1f ", cmd, x(p.T), y(p.V))
		pen, last = true, p.T
	}
	return strings.TrimSpace(d.String())
}

func drawTimeAxis(b *strings.Builder, c Chart, y float64, x func(time.Time) float64) {
	span := c.To.Sub(c.From)
	layout := "15:04"
	if span <= 20*time.Minute {
		layout = "15:04:05"
	}
	for i := 0; i <= 4; i++ {
		t := c.From.Add(span * time.Duration(i) / 4)
		anchor := "middle"
		switch i {
		case 0:
			anchor = "start"
		case 4:
			anchor = "end"
		}
		fmt.Fprintf(b, `<text class="time" x="%.1f" y="%g" text-anchor="%s" fill="#555">%s</text>`, x(t), y, anchor, t.UTC().Format(layout))
	}
	fmt.Fprintf(b, `<text x="%g" y="%g" fill="#555">UTC</text>`, 4.0, y)
}

// yRange is the value range of every finite point within the chart's
// time range and of the bounds, from zero when all are positive. ok is
// false without such a point.
func yRange(p Panel, c Chart) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range p.Series {
		for _, pt := range s.Points {
			if !inRange(pt.T, c) || math.IsNaN(pt.V) || math.IsInf(pt.V, 0) {
				continue
			}
			lo, hi, ok = math.Min(lo, pt.V), math.Max(hi, pt.V), true
		}
	}
	if !ok {
		return 0, 0, false
	}
	for _, bound := range p.Bounds {
		lo, hi = math.Min(lo, bound), math.Max(hi, bound)
	}
	if lo > 0 {
		lo = 0 // rates and ratios read best from zero
	}
	if hi == lo {
		hi = lo + 1
	}
	return lo, hi + (hi-lo)*0.05, true
}

func scaleX(from, to time.Time) func(time.Time) float64 {
	span := float64(to.Sub(from))
	return func(t time.Time) float64 {
		return left + float64(t.Sub(from))/span*(width-left-right)
	}
}

func inRange(t time.Time, c Chart) bool { return !t.Before(c.From) && !t.After(c.To) }

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func markColor(kind string) string {
	switch kind {
	case "passed":
		return "#1a7f37"
	case "weakness", "halt":
		return "#b00020"
	case "error":
		return "#8a4200"
	}
	return "#666"
}

func number(v float64, unit string) string {
	s := strconv.FormatFloat(v, 'g', 3, 64)
	if unit != "" {
		s += " " + unit
	}
	return s
}

func esc(s string) string { return html.EscapeString(s) }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
