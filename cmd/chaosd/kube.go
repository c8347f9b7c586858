package main

import (
	"fmt"
	"os"
	"os/user"

	"github.com/spf13/pflag"
	istioclient "istio.io/client-go/pkg/clientset/versioned"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// kubeFlags locate the cluster: --kubeconfig, $KUBECONFIG, ~/.kube/config,
// or the in-cluster service account, as kubectl does.
type kubeFlags struct {
	kubeconfig string
	context    string
	namespace  string
	qps        float32
	burst      int
}

func (k *kubeFlags) register(fs *pflag.FlagSet, namespaceHelp string) {
	fs.StringVar(&k.kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG, ~/.kube/config, or in-cluster)")
	fs.StringVar(&k.context, "context", "", "kubeconfig context")
	fs.StringVarP(&k.namespace, "namespace", "n", "", namespaceHelp)
	fs.Float32Var(&k.qps, "kube-api-qps", 50, "client-side rate limit for the Kubernetes API")
	fs.IntVar(&k.burst, "kube-api-burst", 100, "client-side burst for the Kubernetes API")
}

func (k *kubeFlags) clientConfig() clientcmd.ClientConfig {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = k.kubeconfig
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: k.context})
}

// resolvedNamespace is --namespace, else the kubeconfig's or the pod's
// namespace, else "chaosd".
func (k *kubeFlags) resolvedNamespace() string {
	if k.namespace != "" {
		return k.namespace
	}
	if ns, overridden, err := k.clientConfig().Namespace(); err == nil && overridden && ns != "" {
		return ns
	}
	return "chaosd"
}

// origin says where a command runs, for chaosd's audit trail: the OS user
// and host, and the kubeconfig context or in-cluster. It is what the
// machine says about itself; the Kubernetes identity comes from the API
// server (control.Identify).
func (k *kubeFlags) origin() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	who := "unknown-user"
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	return who + "@" + host + ", " + k.contextName(os.Getenv("KUBERNETES_SERVICE_HOST") != "")
}

// contextName is the kubeconfig context the clients use, else in-cluster
// when running in a pod, as clientcmd falls back.
func (k *kubeFlags) contextName(inCluster bool) string {
	if raw, err := k.clientConfig().RawConfig(); err == nil {
		name := raw.CurrentContext
		if k.context != "" {
			name = k.context
		}
		if _, ok := raw.Contexts[name]; ok {
			return "context " + name
		}
	}
	if inCluster {
		return "in-cluster"
	}
	return "no kubeconfig context"
}

type kubeClients struct {
	rest     *rest.Config
	kube     kubernetes.Interface
	metadata metadata.Interface
	istio    istioclient.Interface
	dynamic  dynamic.Interface
}

func (k *kubeFlags) clients() (*kubeClients, error) {
	cfg, err := k.clientConfig().ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubernetes client config: %w", err)
	}
	cfg.QPS, cfg.Burst = k.qps, k.burst
	cfg.UserAgent = "chaosd"
	c := &kubeClients{rest: cfg}
	if c.kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	if c.metadata, err = metadata.NewForConfig(cfg); err != nil {
		return nil, fmt.Errorf("metadata client: %w", err)
	}
	// Istio's CRDs are served as JSON; the config stays on JSON too.
	if c.istio, err = istioclient.NewForConfig(cfg); err != nil {
		return nil, fmt.Errorf("istio client: %w", err)
	}
	if c.dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	return c, nil
}
