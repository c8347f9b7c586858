package cluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// credentials are the files kube-apiserver needs for TLS, service-account
// tokens and the admin bearer token. They are generated per cluster in Go so
// that no openssl or cfssl is needed and no key is ever shared.
type credentials struct {
	caCert, servingCert, servingKey string // PEM file paths
	saKey, saPub                    string // PEM file paths
	tokenFile                       string // kube-apiserver --token-auth-file
	caPEM                           []byte
	token                           string // admin bearer token (system:masters)
}

// adminUser is the token user; it is in system:masters, which RBAC grants
// everything and API Priority and Fairness exempts from throttling.
const adminUser = "chaosd-e2e-admin"

// writeCredentials generates a CA, a serving certificate for 127.0.0.1 and
// the in-cluster names of the kubernetes Service, an RSA service-account key
// pair and an admin token, and writes them under dir.
func writeCredentials(dir string) (credentials, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return credentials{}, fmt.Errorf("create pki dir: %w", err)
	}
	c := credentials{
		caCert:      filepath.Join(dir, "ca.crt"),
		servingCert: filepath.Join(dir, "apiserver.crt"),
		servingKey:  filepath.Join(dir, "apiserver.key"),
		saKey:       filepath.Join(dir, "sa.key"),
		saPub:       filepath.Join(dir, "sa.pub"),
		tokenFile:   filepath.Join(dir, "tokens.csv"),
	}
	caKey, caDER, err := newCA()
	if err != nil {
		return credentials{}, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return credentials{}, fmt.Errorf("parse CA: %w", err)
	}
	servingKey, servingDER, err := newServingCert(caCert, caKey)
	if err != nil {
		return credentials{}, err
	}
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return credentials{}, fmt.Errorf("generate service-account key: %w", err)
	}
	tokenBytes := make([]byte, 24)
	if _, err := rand.Read(tokenBytes); err != nil {
		return credentials{}, fmt.Errorf("generate token: %w", err)
	}
	c.token = hex.EncodeToString(tokenBytes)
	c.caPEM = pemBlock("CERTIFICATE", caDER)

	servingKeyDER, err := x509.MarshalPKCS8PrivateKey(servingKey)
	if err != nil {
		return credentials{}, fmt.Errorf("marshal serving key: %w", err)
	}
	saPubDER, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return credentials{}, fmt.Errorf("marshal service-account public key: %w", err)
	}
	files := map[string][]byte{
		c.caCert:      c.caPEM,
		c.servingCert: pemBlock("CERTIFICATE", servingDER),
		c.servingKey:  pemBlock("PRIVATE KEY", servingKeyDER),
		c.saKey:       pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(saKey)),
		c.saPub:       pemBlock("PUBLIC KEY", saPubDER),
		c.tokenFile:   []byte(tokenFileLine(c.token)),
	}
	for path, data := range files {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return credentials{}, fmt.Errorf("write %s: %w", path, err)
		}
	}
	return c, nil
}

// tokenFileLine renders one --token-auth-file entry: token,user,uid,"groups".
func tokenFileLine(token string) string {
	return fmt.Sprintf("%s,%s,%s,\"system:masters\"\n", token, adminUser, adminUser)
}

func newCA() (*ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "chaosd-e2e-ca"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("self-sign CA: %w", err)
	}
	return key, der, nil
}

func newServingCert(ca *x509.Certificate, caKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate serving key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		// 10.0.0.1 is the kubernetes Service IP in serviceCIDR.
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.0.0.1")},
		DNSNames: []string{"localhost", "kubernetes", "kubernetes.default",
			"kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("sign serving certificate: %w", err)
	}
	return key, der, nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
