package chart

import (
	"encoding/xml"
	"io"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

func points(vs ...float64) []Point {
	ps := make([]Point, len(vs))
	for i, v := range vs {
		ps[i] = Point{T: t0.Add(time.Duration(i) * time.Minute), V: v}
	}
	return ps
}

// wellFormed fails unless s parses as XML: a browser drops a broken SVG.
func wellFormed(t *testing.T, s string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, s)
		}
	}
}

var attr = func(name string) *regexp.Regexp {
	return regexp.MustCompile(`class="` + name + `" x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)"`)
}

func TestFaultWindowsShadedWhereTheyAre(t *testing.T) {
	// Plot area: x from 70 to 880 (810 units) for 60 minutes: 13.5 per minute.
	c := Chart{Title: "t", From: t0, To: t0.Add(time.Hour), Panels: []Panel{{Title: "p", Series: []Series{{Points: points(1, 2, 3)}}}}}
	tests := []struct {
		name    string
		w       Window
		x, wdth string // "" when not drawn
	}{
		{"inside", Window{From: t0.Add(10 * time.Minute), To: t0.Add(20 * time.Minute)}, "205.0", "135.0"},
		{"clipped at the start", Window{From: t0.Add(-time.Hour), To: t0.Add(2 * time.Minute)}, "70.0", "27.0"},
		{"clipped at the end", Window{From: t0.Add(50 * time.Minute), To: t0.Add(2 * time.Hour)}, "745.0", "135.0"},
		{"a kill has an instant: one unit wide", Window{From: t0.Add(30 * time.Minute), To: t0.Add(30 * time.Minute)}, "475.0", "1.0"},
		{"before the range", Window{From: t0.Add(-2 * time.Hour), To: t0.Add(-time.Hour)}, "", ""},
		{"after the range", Window{From: t0.Add(2 * time.Hour), To: t0.Add(3 * time.Hour)}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc := c
			cc.Windows = []Window{tt.w}
			out := string(SVG(cc))
			wellFormed(t, out)
			m := attr("fault-window").FindAllStringSubmatch(out, -1)
			if tt.x == "" {
				if len(m) != 0 {
					t.Fatalf("window drawn: %v", m)
				}
				return
			}
			if len(m) != 1 || m[0][1] != tt.x || m[0][2] != tt.wdth {
				t.Fatalf("window rects %v, want x=%s width=%s", m, tt.x, tt.wdth)
			}
		})
	}
}

func TestNoDataIsSaidNeverDrawn(t *testing.T) {
	c := Chart{Title: "t", From: t0, To: t0.Add(time.Hour)}
	tests := []struct {
		name  string
		panel Panel
		note  string
	}{
		{"no series", Panel{Title: "error ratio"}, "no data"},
		{"series without points", Panel{Title: "x", Series: []Series{{Name: "a"}}}, "no data"},
		{"only NaN and Inf", Panel{Title: "x", Series: []Series{{Points: points(math.NaN(), math.Inf(1))}}}, "no data"},
		{"points outside the range only", Panel{Title: "x", Series: []Series{{Points: []Point{{T: t0.Add(-time.Minute), V: 1}}}}}, "no data"},
		{"a reason given", Panel{Title: "x", NoData: "query failed: <timeout>"}, "query failed: &lt;timeout&gt;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc := c
			cc.Panels = []Panel{tt.panel}
			out := string(SVG(cc))
			wellFormed(t, out)
			if strings.Contains(out, `class="series"`) {
				t.Errorf("a line is drawn without data:\n%s", out)
			}
			if !strings.Contains(out, `class="no-data"`) || !strings.Contains(out, tt.note) {
				t.Errorf("want the note %q:\n%s", tt.note, out)
			}
		})
	}
}

func TestSeriesPathBreaksAtGaps(t *testing.T) {
	c := Chart{From: t0, To: t0.Add(time.Hour), Panels: []Panel{{Title: "p", Series: []Series{{Points: points(1, math.NaN(), 1, 1)}}}}}
	out := string(SVG(c))
	d := regexp.MustCompile(`class="series" d="([^"]*)"`).FindStringSubmatch(out)
	if d == nil {
		t.Fatalf("no series path:\n%s", out)
	}
	if got := strings.Count(d[1], "M"); got != 2 {
		t.Errorf("path %q has %d moves, want 2 (a gap at the NaN)", d[1], got)
	}
}

func TestEscaping(t *testing.T) {
	evil := `</svg><script>alert("x")</script>`
	c := Chart{Title: evil, From: t0, To: t0.Add(time.Hour),
		Panels:  []Panel{{Title: evil, Unit: evil, Series: []Series{{Name: evil, Points: points(1, 2)}}, Bounds: []float64{1.5}}},
		Windows: []Window{{From: t0, To: t0.Add(time.Minute), Label: evil}},
		Marks:   []Mark{{At: t0.Add(time.Minute), Label: evil, Kind: `x" onload="y`}}}
	out := string(SVG(c))
	wellFormed(t, out)
	if strings.Contains(out, "<script") || strings.Contains(out, `" onload="`) {
		t.Errorf("unescaped input:\n%s", out)
	}
}

func TestMarksAndBounds(t *testing.T) {
	c := Chart{From: t0, To: t0.Add(time.Hour),
		Panels: []Panel{{Title: "healthy", Series: []Series{{Points: points(1, 1, 0)}}, Bounds: []float64{1}}, {Title: "errors"}},
		Marks: []Mark{{At: t0.Add(30 * time.Minute), Label: "halt", Kind: "halt"}, {At: t0.Add(31 * time.Minute), Kind: "weakness"},
			{At: t0.Add(2 * time.Hour), Kind: "passed"}}}
	out := string(SVG(c))
	wellFormed(t, out)
	if n := strings.Count(out, `class="mark mark-halt" x1="475.0"`); n != 2 {
		t.Errorf("halt marked in %d panels at x=475, want both:\n%s", n, out)
	}
	if strings.Contains(out, "mark-passed") {
		t.Error("a mark outside the range is drawn")
	}
	if n := strings.Count(out, `class="bound"`); n != 1 {
		t.Errorf("%d bound lines, want 1 (the panel without data has none)", n)
	}
}

func TestNothingToDraw(t *testing.T) {
	for name, c := range map[string]Chart{
		"no panels":   {Title: "x", From: t0, To: t0.Add(time.Hour)},
		"empty range": {Title: "x", From: t0, To: t0, Panels: []Panel{{Title: "p"}}},
	} {
		t.Run(name, func(t *testing.T) {
			if out := string(SVG(c)); strings.Contains(out, "<svg") || !strings.Contains(out, "nothing to draw") {
				t.Errorf("got %s", out)
			}
		})
	}
}
