package daemon

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/chaosd/chaosd/internal/control"
)

// A one-shot run that cannot read the manual pause must not run: a pause
// it cannot see may be the one an operator set during an incident.
func TestOnceRefusesPauseItCannotRead(t *testing.T) {
	const validPause = `{"mode":"true","reason":"incident 42","by":"alice","at":"2026-11-25T11:00:00Z"}`
	tests := []struct {
		name    string
		objects []runtime.Object
		getErr  error // the API server's answer to reading the ConfigMap
		refused bool
	}{
		{name: "unreadable pause annotation", objects: []runtime.Object{chaosdConfigMap(map[string]string{control.AnnotationPause: "{nope"})}, refused: true},
		{name: "malformed status next to a valid pause", objects: []runtime.Object{chaosdConfigMap(map[string]string{
			control.AnnotationPause: validPause, control.AnnotationStatus: "{truncated"})}, refused: true},
		{name: "valid pause", objects: []runtime.Object{chaosdConfigMap(map[string]string{control.AnnotationPause: validPause})}, refused: true},
		{name: "configmap read fails", objects: []runtime.Object{chaosdConfigMap(nil)}, getErr: apierrors.NewServiceUnavailable("etcd leader changed"), refused: true},
		{name: "configmap read forbidden", objects: []runtime.Object{chaosdConfigMap(nil)},
			getErr: apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, testConfigMap, nil), refused: true},
		// No ConfigMap at all: nobody can have paused through it.
		{name: "no configmap", refused: false},
		{name: "no pause", objects: []runtime.Object{chaosdConfigMap(map[string]string{control.AnnotationStatus: "{truncated"})}, refused: false},
	}
	am := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("[]"))
	}))
	defer am.Close()
	doc := "guard:\n  alertmanager: {url: \"" + am.URL + "\"}\n" + inScopeExperiments
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kube := fake.NewClientset(tt.objects...)
			if tt.getErr != nil {
				kube.PrependReactor("get", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, tt.getErr })
			}
			o := testOptions(t, doc, kube, nil)
			rec, err := Once(context.Background(), o, "kill")
			if got := errors.Is(err, ErrPaused); got != tt.refused {
				t.Fatalf("Once = %+v, %v; want refused as paused: %v", rec, err, tt.refused)
			}
			if !tt.refused && err != nil {
				t.Fatalf("Once: %v", err)
			}
		})
	}
}
