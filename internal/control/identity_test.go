package control

import (
	"context"
	"slices"
	"strings"
	"testing"

	authnv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// TestIdentify: the identity comes from the API server's SelfSubjectReview
// (impersonated users and ServiceAccounts included); when the review fails
// the user is marked unknown with the reason, and from is kept.
func TestIdentify(t *testing.T) {
	const from = "alice@laptop, context prod"
	tests := []struct {
		name       string
		userInfo   authnv1.UserInfo
		err        error
		wantUser   string // exact, or a prefix ending in "("
		wantGroups []string
	}{
		{name: "kubeconfig user", userInfo: authnv1.UserInfo{Username: "alice", Groups: []string{"system:masters", "system:authenticated"}},
			wantUser: "alice", wantGroups: []string{"system:masters", "system:authenticated"}},
		{name: "service account", userInfo: authnv1.UserInfo{Username: "system:serviceaccount:ops:runner", Groups: []string{"system:serviceaccounts"}},
			wantUser: "system:serviceaccount:ops:runner", wantGroups: []string{"system:serviceaccounts"}},
		{name: "review refused", err: apierrors.NewForbidden(schema.GroupResource{Group: "authentication.k8s.io", Resource: "selfsubjectreviews"}, "", nil),
			wantUser: "unknown (SelfSubjectReview: selfsubjectreviews.authentication.k8s.io is forbidden"},
		{name: "old API server", err: apierrors.NewNotFound(schema.GroupResource{Group: "authentication.k8s.io", Resource: "selfsubjectreviews"}, ""),
			wantUser: "unknown (SelfSubjectReview: "},
		{name: "no username", wantUser: "unknown (SelfSubjectReview returned no username)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kube := fake.NewClientset()
			asked := 0
			kube.PrependReactor("create", "selfsubjectreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
				asked++
				if tt.err != nil {
					return true, nil, tt.err
				}
				return true, &authnv1.SelfSubjectReview{Status: authnv1.SelfSubjectReviewStatus{UserInfo: tt.userInfo}}, nil
			})
			got := Identify(context.Background(), kube, from)
			if asked != 1 {
				t.Fatalf("SelfSubjectReview created %d times, want 1", asked)
			}
			if got.User != tt.wantUser && !strings.HasPrefix(got.User, tt.wantUser) || got.User == "" {
				t.Errorf("User = %q, want %q", got.User, tt.wantUser)
			}
			if !slices.Equal(got.Groups, tt.wantGroups) {
				t.Errorf("Groups = %v, want %v", got.Groups, tt.wantGroups)
			}
			if got.From != from {
				t.Errorf("From = %q, want %q", got.From, from)
			}
		})
	}
}
