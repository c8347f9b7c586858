package cluster

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"strings"
	"testing"
)

func TestWriteCredentials(t *testing.T) {
	c, err := writeCredentials(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(c.caPEM) {
		t.Fatal("CA PEM does not parse")
	}
	serving := readCert(t, c.servingCert)
	for _, host := range []string{"127.0.0.1", "kubernetes.default.svc", "localhost"} {
		if _, err := serving.Verify(x509.VerifyOptions{Roots: pool, DNSName: host}); err != nil {
			t.Errorf("serving cert not valid for %s: %v", host, err)
		}
	}
	tokens, err := os.ReadFile(c.tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.SplitN(strings.TrimSpace(string(tokens)), ",", 4)
	if len(fields) != 4 || fields[0] != c.token || fields[3] != `"system:masters"` || len(c.token) < 32 {
		t.Errorf("token file = %q", tokens)
	}
	key, err := os.ReadFile(c.saKey)
	if err != nil {
		t.Fatal(err)
	}
	if block, _ := pem.Decode(key); block == nil || block.Type != "RSA PRIVATE KEY" {
		t.Errorf("service-account key is not an RSA PEM key")
	}
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
