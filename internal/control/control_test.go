package control

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/chaosd/chaosd/internal/config"
)

func TestPauseResumeRoundTrip(t *testing.T) {
	ctx := context.Background()
	ref := Ref{Namespace: "chaosd", Name: "chaosd-config"}
	kube := fake.NewClientset(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ref.Namespace, Name: ref.Name}})
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

	if err := SetPause(ctx, kube, ref, ManualPause{Mode: config.PauseRevert, Reason: "incident 42", By: "alice", At: at}); err != nil {
		t.Fatalf("SetPause: %v", err)
	}
	st, p, err := ReadStatus(ctx, kube, ref)
	if err != nil {
		t.Fatalf("ReadStatus: %v", err)
	}
	if p == nil || p.Mode != config.PauseRevert || p.Reason != "incident 42" || !p.At.Equal(at) {
		t.Fatalf("pause = %+v, want revert by alice for incident 42", p)
	}
	if st.State != "" {
		t.Fatalf("no status published yet, got %+v", st)
	}
	resumed := at.Add(time.Hour)
	bob := Actor{User: "bob", Groups: []string{"sre"}, From: "bob@laptop, context prod"}
	if err := Resume(ctx, kube, ref, resumed, bob); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	if _, p, err = ReadStatus(ctx, kube, ref); err != nil || p != nil {
		t.Fatalf("after resume: pause=%+v err=%v, want none", p, err)
	}
	cm, _ := kube.CoreV1().ConfigMaps(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if got := ResumedAt(cm); !got.Equal(resumed) {
		t.Fatalf("ResumedAt = %s, want %s", got, resumed)
	}
	if got, ok := ResumedBy(cm); !ok || got.User != bob.User || got.From != bob.From || len(got.Groups) != 1 {
		t.Fatalf("ResumedBy = %+v, %v; want %+v", got, ok, bob)
	}
}

func TestSetPauseRejectsNotPaused(t *testing.T) {
	kube := fake.NewClientset()
	err := SetPause(context.Background(), kube, Ref{"a", "b"}, ManualPause{Mode: config.NotPaused})
	if err == nil {
		t.Fatal("SetPause with mode false must fail")
	}
}

func TestPauseFrom(t *testing.T) {
	tests := []struct {
		name       string
		annotation string
		wantOK     bool
		wantMode   config.PauseMode
		wantErr    bool
	}{
		{name: "absent", wantOK: false},
		{name: "pause", annotation: `{"mode":"true","reason":"x"}`, wantOK: true, wantMode: config.Paused},
		{name: "revert", annotation: `{"mode":"revert"}`, wantOK: true, wantMode: config.PauseRevert},
		{name: "garbage fails closed", annotation: `{nope`, wantOK: true, wantMode: config.Paused, wantErr: true},
		{name: "mode false still pauses", annotation: `{"mode":"false"}`, wantOK: true, wantMode: config.Paused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cm := &corev1.ConfigMap{}
			if tt.annotation != "" {
				cm.Annotations = map[string]string{AnnotationPause: tt.annotation}
			}
			p, ok, err := PauseFrom(cm)
			if ok != tt.wantOK || (err != nil) != tt.wantErr || (ok && p.Mode != tt.wantMode) {
				t.Fatalf("PauseFrom = %+v, %v, %v; want ok=%v mode=%v err=%v", p, ok, err, tt.wantOK, tt.wantMode, tt.wantErr)
			}
		})
	}
}

func TestPublishStatusBoundsLists(t *testing.T) {
	ctx := context.Background()
	ref := Ref{Namespace: "chaosd", Name: "cfg"}
	kube := fake.NewClientset(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ref.Namespace, Name: ref.Name}})
	st := Status{State: "running", Leader: "pod-a"}
	for range MaxListed + 5 {
		st.Recent = append(st.Recent, RunSummary{RunID: "r", Verdict: "passed"})
	}
	if err := PublishStatus(ctx, kube, ref, st); err != nil {
		t.Fatalf("PublishStatus: %v", err)
	}
	got, _, err := ReadStatus(ctx, kube, ref)
	if err != nil {
		t.Fatalf("ReadStatus: %v", err)
	}
	if got.State != "running" || got.Leader != "pod-a" || len(got.Recent) != MaxListed {
		t.Fatalf("status = %+v, want running by pod-a with %d recent runs", got, MaxListed)
	}
}

func TestCooldownSurvivesAndResumeClearsIt(t *testing.T) {
	ctx := context.Background()
	ref := Ref{Namespace: "chaosd", Name: "cfg"}
	kube := fake.NewClientset(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ref.Namespace, Name: ref.Name}})
	until := time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC)
	if err := SetCooldown(ctx, kube, ref, Cooldown{Reason: "weakness", Until: until}); err != nil {
		t.Fatal(err)
	}
	cm, _ := kube.CoreV1().ConfigMaps(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if c, ok := CooldownFrom(cm); !ok || !c.Until.Equal(until) || c.Reason != "weakness" {
		t.Fatalf("CooldownFrom = %+v, %v; want the recorded cooldown", c, ok)
	}
	if err := Resume(ctx, kube, ref, until, Actor{User: "alice"}); err != nil {
		t.Fatal(err)
	}
	cm, _ = kube.CoreV1().ConfigMaps(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if _, ok := CooldownFrom(cm); ok {
		t.Fatal("resume must clear the cooldown")
	}
}
