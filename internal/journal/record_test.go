package journal

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/targets"
)

var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589_000_000, time.UTC)

func testRecord(id string, started time.Time) Record {
	v := 0.12
	rec := Record{
		RunID:      id,
		Experiment: "checkout-abort",
		Action:     config.ActionHTTPAbort,
		TargetKind: config.TargetVirtualService,
		ConfigHash: "sha256:abc",
		Seed:       math.MaxUint64 - 1,
		StartedAt:  started,
		FinishedAt: started.Add(90 * time.Second),
		Verdict:    VerdictWeakness,
		Reason:     "alert CheckoutErrorRate fired during the hold",
		Evidence: []Evidence{{
			Source: SourcePrometheus, Name: "error-ratio", Labels: map[string]string{"service": "checkout"},
			Value: &v, Bound: "<= 0.05", At: started.Add(30 * time.Second),
		}},
		Selection: Selection{
			Considered: 3, Eligible: 1,
			Rejections:     map[string]int{"excluded namespace": 2},
			RejectedSample: []Rejection{{Target: "virtualservice/kube-system/x", Reason: "excluded namespace"}},
			Chosen:         []targets.Target{{Kind: config.TargetVirtualService, Namespace: "shop", Name: "checkout"}},
		},
	}
	rec.AddTimeline(started, PhaseInject, "virtualservice/shop/checkout", "abort 50% with 503", nil)
	return rec
}

func TestAddTimeline(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantError string
	}{
		{name: "without error", err: nil, wantError: ""},
		{name: "with error", err: errors.New("conflict"), wantError: "conflict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Record
			r.AddTimeline(t0, PhaseRevert, "pod/a/b", "reverted", tt.err)
			if len(r.Timeline) != 1 {
				t.Fatalf("timeline has %d entries, want 1", len(r.Timeline))
			}
			e := r.Timeline[0]
			if e.Phase != PhaseRevert || e.Target != "pod/a/b" || e.Message != "reverted" || !e.At.Equal(t0) || e.Error != tt.wantError {
				t.Errorf("entry = %+v", e)
			}
		})
	}
}

func TestCountErrorIsBounded(t *testing.T) {
	var l LoadStats
	for i := range MaxLoadErrorKinds + 5 {
		l.CountError(strings.Repeat("x", i+1), 1)
	}
	l.CountError("x", 2) // already seen: still counted under its own key
	l.CountError(strings.Repeat("é", MaxLoadErrorLength), 1)
	if got := len(l.Errors); got != MaxLoadErrorKinds+1 {
		t.Errorf("distinct errors = %d, want %d (+1 for %q)", got, MaxLoadErrorKinds+1, OtherErrors)
	}
	if l.Errors["x"] != 3 {
		t.Errorf(`errors["x"] = %d, want 3`, l.Errors["x"])
	}
	if l.Errors[OtherErrors] != 6 {
		t.Errorf("other errors = %d, want 6", l.Errors[OtherErrors])
	}
	var long LoadStats
	long.CountError(strings.Repeat("é", MaxLoadErrorLength), 1)     // the limit falls between two runes
	long.CountError("x"+strings.Repeat("é", MaxLoadErrorLength), 1) // the limit falls inside a rune
	if len(long.Errors) != 2 {
		t.Fatalf("two long messages counted under %d keys, want 2: %v", len(long.Errors), long.Errors)
	}
	for k := range long.Errors {
		if len(k) > MaxLoadErrorLength+len("…") || !strings.HasSuffix(k, "…") || !utf8.ValidString(k) {
			t.Errorf("long message not truncated on a rune boundary: %d bytes, valid UTF-8 %v", len(k), utf8.ValidString(k))
		}
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	rec := testRecord("run-1", t0)
	rec.Injections = []Injection{{Target: "virtualservice/shop/checkout", Action: config.ActionHTTPAbort, InjectedAt: t0}}
	var buf bytes.Buffer
	if err := Encode(&buf, rec); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`"schemaVersion": 1`, `"seed": "18446744073709551614"`, `"durationSeconds": 90`, `"revertedAt": null`} {
		if !strings.Contains(out, want) {
			t.Errorf("encoded journal lacks %s:\n%s", want, out)
		}
	}
	got, err := Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got.Seed != rec.Seed || got.RunID != rec.RunID || !got.StartedAt.Equal(rec.StartedAt) || got.Verdict != rec.Verdict {
		t.Errorf("round trip changed the record: %+v", got)
	}
	if !reflect.DeepEqual(got.Selection, rec.Selection) {
		t.Errorf("selection = %+v, want %+v", got.Selection, rec.Selection)
	}
}

func TestEncodeNonFiniteValues(t *testing.T) {
	rec := testRecord("run-nan", t0)
	nan, inf := math.NaN(), math.Inf(1)
	rec.Evidence = []Evidence{{Source: SourcePrometheus, Name: "ratio", Value: &nan}, {Source: SourcePrometheus, Name: "latency", Value: &inf, Message: "p99"}}
	rec.Load = &LoadStats{Rate: math.NaN(), Latencies: Latencies{Max: math.Inf(1)}}
	var buf bytes.Buffer
	if err := Encode(&buf, rec); err != nil {
		t.Fatalf("Encode with NaN: %v", err)
	}
	got, err := Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got.Evidence[0].Value != nil || got.Evidence[0].Message != "value NaN" {
		t.Errorf("NaN evidence = %+v", got.Evidence[0])
	}
	if got.Evidence[1].Message != "p99 (value +Inf)" {
		t.Errorf("Inf evidence message = %q", got.Evidence[1].Message)
	}
	if !math.IsNaN(*rec.Evidence[0].Value) || !math.IsNaN(rec.Load.Rate) {
		t.Error("Encode modified the caller's record")
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
		is      error
	}{
		{name: "not json", in: "{nope", wantErr: "decode journal"},
		{name: "no schema version", in: `{"runId":"a"}`, wantErr: "not a chaosd journal"},
		{name: "newer schema", in: `{"schemaVersion":2,"runId":"a"}`, wantErr: "schemaVersion 2", is: ErrNewerSchema},
		{name: "unknown fields are fine", in: `{"schemaVersion":1,"runId":"a","future":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tt.in))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err = %v, want errors.Is %v", err, tt.is)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Record)
		wantErr string
	}{
		{name: "valid", mutate: func(*Record) {}},
		{name: "in progress has no verdict", mutate: func(r *Record) { r.Verdict = "" }},
		{name: "path traversal in run id", mutate: func(r *Record) { r.RunID = "../etc/passwd" }, wantErr: "runId"},
		{name: "empty run id", mutate: func(r *Record) { r.RunID = "" }, wantErr: "runId"},
		{name: "no start", mutate: func(r *Record) { r.StartedAt = time.Time{} }, wantErr: "startedAt"},
		{name: "unknown verdict", mutate: func(r *Record) { r.Verdict = "meh" }, wantErr: "verdict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testRecord("run-1", t0)
			tt.mutate(&r)
			err := r.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestEncodeInProgressAndEmptyLists(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, Record{RunID: "r", StartedAt: t0, Evidence: []Evidence{{Bound: "<= 0.05"}}}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`"timeline": []`, `"injections": []`, `"chosen": []`, `"bound": "<= 0.05"`, `"verdict": ""`} {
		if !strings.Contains(out, want) {
			t.Errorf("encoded journal lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "finishedAt") {
		t.Errorf("in-progress journal has a finishedAt:\n%s", out)
	}
}
