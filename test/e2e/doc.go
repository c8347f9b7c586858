// Package e2e holds chaosd's end-to-end tests. They run against a real
// local control plane (see test/cluster) and only build with the e2e tag:
//
//	go test -tags e2e -v -timeout 20m ./test/e2e/
package e2e
