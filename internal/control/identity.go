package control

import (
	"context"
	"fmt"
	"strings"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Actor is who changed a control, and from where: the Kubernetes
// identity the API server authenticated, and the machine and kubeconfig
// context (or in-cluster) the command ran from.
type Actor struct {
	// User is the authenticated username, or "unknown (...)" with why the
	// API server could not say.
	User   string   `json:"by"`
	Groups []string `json:"groups,omitempty"`
	// From is where the command ran, e.g. "alice@laptop, context prod".
	From string `json:"from,omitempty"`
}

// String says who and from where: "alice (groups sre) from alice@laptop,
// context prod".
func (a Actor) String() string {
	s := a.User
	if len(a.Groups) > 0 {
		s += " (groups " + strings.Join(a.Groups, ", ") + ")"
	}
	if a.From != "" {
		s += " from " + a.From
	}
	return s
}

// UnknownUser begins User when the API server could not tell who we are.
const UnknownUser = "unknown"

// Identify asks the API server who the client authenticates as, with a
// SelfSubjectReview: it sees through client certificates, tokens, exec
// plugins, impersonation and in-cluster ServiceAccounts alike, which the
// kubeconfig alone cannot. When the review fails (an API server before
// 1.28, or a denied request) User says so instead of guessing; from is
// recorded either way.
func Identify(ctx context.Context, kube kubernetes.Interface, from string) Actor {
	review, err := kube.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	switch {
	case err != nil:
		return Actor{User: fmt.Sprintf("%s (SelfSubjectReview: %v)", UnknownUser, err), From: from}
	case review.Status.UserInfo.Username == "":
		return Actor{User: UnknownUser + " (SelfSubjectReview returned no username)", From: from}
	}
	u := review.Status.UserInfo
	return Actor{User: u.Username, Groups: u.Groups, From: from}
}
