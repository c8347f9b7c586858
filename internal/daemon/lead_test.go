package daemon

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/chaosd/chaosd/internal/experiments"
)

// A new leader reverts a dead leader's faults at once: recovery reads only
// the intents recorded in the cluster, so neither an unsynced inventory nor
// one the API server refuses (RBAC drift, a deleted namespace) may delay it.
func TestLeaderRecoversBeforeInventorySyncs(t *testing.T) {
	tests := []struct {
		name   string
		refuse string // the inventory resource the API server refuses
	}{
		{name: "pods refused", refuse: "pods"},
		{name: "deployments refused", refuse: "deployments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kube := fake.NewClientset(orphanedCordon(t, "n1"))
			uncordoned := make(chan struct{})
			kube.PrependReactor("update", "nodes", func(a k8stesting.Action) (bool, runtime.Object, error) {
				if n := a.(k8stesting.UpdateAction).GetObject().(*corev1.Node); !n.Spec.Unschedulable && n.Labels[experiments.LabelInjected] == "" {
					close(uncordoned)
				}
				return false, nil, nil
			})
			// The inventory's pods and workloads come from the typed client.
			forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: tt.refuse}, "", nil)
			kube.PrependReactor("list", tt.refuse, func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, forbidden
			})
			kube.PrependWatchReactor(tt.refuse, func(k8stesting.Action) (bool, watch.Interface, error) {
				return true, nil, forbidden
			})
			meta := metadatafake.NewSimpleMetadataClient(metadatafake.NewTestScheme())
			d, _ := testDaemon(t, inScope, kube, meta, false)
			ctx, cancel := context.WithCancel(context.Background())
			d.source.Start(ctx)
			led := make(chan struct{})
			go func() { defer close(led); d.lead(ctx) }()

			select {
			case <-uncordoned:
			case <-time.After(10 * time.Second): // a bound on a failure, not a wait for success
				t.Error("node n1 still cordoned by a dead leader: recovery waited for the refused inventory")
			}
			cancel()
			<-led
			if d.source.HasSynced() {
				t.Error("the inventory synced although the API server refused it; the test proves nothing")
			}
		})
	}
}
