package apiserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Credentials are what the server makes on its first start and reads on every later one: a CA,
// a serving certificate signed by it, and the bearer tokens.
type Credentials struct {
	CACertPEM  []byte
	CAKey      *ecdsa.PrivateKey
	CACert     *x509.Certificate
	ServerCert tls.Certificate
	AdminToken string
	JoinToken  string
	// KubeletToken is what the API server presents to kubelets when it proxies logs and exec.
	KubeletToken string
}

// File names inside the data directory.
const (
	caCertFile       = "pki/ca.crt"
	caKeyFile        = "pki/ca.key"
	serverCertFile   = "pki/server.crt"
	serverKeyFile    = "pki/server.key"
	adminTokenFile   = "tokens/admin"
	joinTokenFile    = "tokens/join"
	kubeletTokenFile = "tokens/kubelet"
)

// LoadOrCreateCredentials reads the credentials from dataDir, making what is missing. The
// serving certificate is made again when it lacks one of hosts (names or IPs) or is about to
// expire; the CA and the tokens are kept, so clients stay valid.
func LoadOrCreateCredentials(dataDir string, hosts []string) (*Credentials, error) {
	for _, d := range []string{"pki", "tokens"} {
		if err := os.MkdirAll(filepath.Join(dataDir, d), 0o700); err != nil {
			return nil, fmt.Errorf("make data directory: %w", err)
		}
	}
	c := &Credentials{}
	var err error
	if c.CACertPEM, c.CACert, c.CAKey, err = loadOrCreateCA(dataDir); err != nil {
		return nil, err
	}
	if c.ServerCert, err = loadOrCreateServing(dataDir, c.CACert, c.CAKey, hosts); err != nil {
		return nil, err
	}
	if c.AdminToken, err = loadOrCreateToken(filepath.Join(dataDir, adminTokenFile)); err != nil {
		return nil, err
	}
	if c.JoinToken, err = loadOrCreateToken(filepath.Join(dataDir, joinTokenFile)); err != nil {
		return nil, err
	}
	if c.KubeletToken, err = loadOrCreateToken(filepath.Join(dataDir, kubeletTokenFile)); err != nil {
		return nil, err
	}
	return c, nil
}

func loadOrCreateCA(dir string) ([]byte, *x509.Certificate, *ecdsa.PrivateKey, error) {
	certPath, keyPath := filepath.Join(dir, caCertFile), filepath.Join(dir, caKeyFile)
	if certPEM, err := os.ReadFile(certPath); err == nil {
		cert, key, err := parsePair(certPEM, keyPath)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("read CA in %s: %w (remove the data directory's pki/ to make a new one)", dir, err)
		}
		return certPEM, cert, key, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "minik8s-ca"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, err
	}
	cert, _ := x509.ParseCertificate(der)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := writeKeyPair(certPath, keyPath, certPEM, key); err != nil {
		return nil, nil, nil, err
	}
	return certPEM, cert, key, nil
}

func loadOrCreateServing(dir string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, hosts []string) (tls.Certificate, error) {
	certPath, keyPath := filepath.Join(dir, serverCertFile), filepath.Join(dir, serverKeyFile)
	if certPEM, err := os.ReadFile(certPath); err == nil {
		if cert, _, err := parsePair(certPEM, keyPath); err == nil && covers(cert, hosts) &&
			time.Until(cert.NotAfter) > 30*24*time.Hour {
			return tls.LoadX509KeyPair(certPath, keyPath)
		}
	}
	certPEM, key, err := IssueCertificate(ca, caKey, "minik8s-apiserver", hosts, x509.ExtKeyUsageServerAuth)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := writeKeyPair(certPath, keyPath, certPEM, key); err != nil {
		return tls.Certificate{}, err
	}
	return tls.LoadX509KeyPair(certPath, keyPath)
}

// IssueCertificate signs a new certificate for the given DNS names and IPs with the CA. It is
// what kubelets' serving certificates will be made with too.
func IssueCertificate(ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string, hosts []string, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(2, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), key, nil
}

func covers(cert *x509.Certificate, hosts []string) bool {
	for _, h := range hosts {
		if cert.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

func parsePair(certPEM []byte, keyPath string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	b, _ := pem.Decode(certPEM)
	if b == nil {
		return nil, nil, errors.New("no PEM certificate")
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, err
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, nil, errors.New("no PEM key")
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

func writeKeyPair(certPath, keyPath string, certPEM []byte, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(certPath, certPEM, 0o644)
}

func loadOrCreateToken(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		if t := strings.TrimSpace(string(b)); t != "" {
			return t, nil
		}
	}
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	t := hex.EncodeToString(buf)
	if err := os.WriteFile(path, []byte(t+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write token: %w", err)
	}
	return t, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n
}

// IssueServingCert signs a serving certificate for a node's kubelet (or any other component)
// with the cluster CA.
func (c *Credentials) IssueServingCert(cn string, hosts []string) (tls.Certificate, error) {
	certPEM, key, err := IssueCertificate(c.CACert, c.CAKey, cn, hosts, x509.ExtKeyUsageServerAuth)
	if err != nil {
		return tls.Certificate{}, err
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
}
