// Command rssfloor links the libraries the brief chose for chaosd and does
// nothing else, so its peak RSS is the floor any daemon built on them pays
// before it holds a single pod (docs/benchmarks.md, "The 64 MiB target"):
//
//	CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o /tmp/rssfloor ./hack/rssfloor
//	/usr/bin/time -f '%M KiB' /tmp/rssfloor
package main

import (
	"fmt"

	_ "github.com/knadh/koanf/v2"
	_ "github.com/prometheus/alertmanager/api/v2/client"
	_ "github.com/prometheus/client_golang/api/prometheus/v1"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/robfig/cron/v3"
	_ "go.uber.org/zap"
	_ "istio.io/client-go/pkg/clientset/versioned"
	_ "k8s.io/client-go/kubernetes"
	_ "k8s.io/client-go/metadata/metadatainformer"
	_ "k8s.io/client-go/tools/leaderelection"
	_ "k8s.io/kubectl/pkg/drain"
)

func main() { fmt.Println("linked; nothing else to do") }
