package client

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// Config is what a client needs to reach the API server: its URL, the CA that signed its
// certificate, and a bearer token.
type Config struct {
	Server string
	CAData []byte
	Token  string
}

// kubeconfig is the subset of Kubernetes' kubeconfig format that minik8s reads and writes, so
// that admin.yaml works with kubectl as it is.
type kubeconfig struct {
	APIVersion     string         `json:"apiVersion"`
	Kind           string         `json:"kind"`
	Clusters       []namedCluster `json:"clusters"`
	Users          []namedUser    `json:"users"`
	Contexts       []namedContext `json:"contexts"`
	CurrentContext string         `json:"current-context"`
}

type namedCluster struct {
	Name    string `json:"name"`
	Cluster struct {
		Server                   string `json:"server"`
		CertificateAuthorityData string `json:"certificate-authority-data,omitempty"`
		CertificateAuthority     string `json:"certificate-authority,omitempty"`
	} `json:"cluster"`
}

type namedUser struct {
	Name string `json:"name"`
	User struct {
		Token     string `json:"token,omitempty"`
		TokenFile string `json:"tokenFile,omitempty"`
	} `json:"user"`
}

type namedContext struct {
	Name    string `json:"name"`
	Context struct {
		Cluster   string `json:"cluster"`
		User      string `json:"user"`
		Namespace string `json:"namespace,omitempty"`
	} `json:"context"`
}

// WriteConfig writes cfg as a kubeconfig file (mode 0600) that both minik8s and kubectl read.
func WriteConfig(path string, cfg *Config) error {
	var kc kubeconfig
	kc.APIVersion, kc.Kind, kc.CurrentContext = "v1", "Config", "minik8s"
	c := namedCluster{Name: "minik8s"}
	c.Cluster.Server = cfg.Server
	c.Cluster.CertificateAuthorityData = base64.StdEncoding.EncodeToString(cfg.CAData)
	u := namedUser{Name: "admin"}
	u.User.Token = cfg.Token
	x := namedContext{Name: "minik8s"}
	x.Context.Cluster, x.Context.User = "minik8s", "admin"
	kc.Clusters, kc.Users, kc.Contexts = []namedCluster{c}, []namedUser{u}, []namedContext{x}
	b, err := yaml.Marshal(kc)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// LoadConfig reads a kubeconfig file and returns its current context's server, CA and token.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var kc kubeconfig
	if err := yaml.Unmarshal(b, &kc); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	ctxName := kc.CurrentContext
	if ctxName == "" && len(kc.Contexts) > 0 {
		ctxName = kc.Contexts[0].Name
	}
	var cluster *namedCluster
	var user *namedUser
	for i := range kc.Contexts {
		if kc.Contexts[i].Name != ctxName {
			continue
		}
		for j := range kc.Clusters {
			if kc.Clusters[j].Name == kc.Contexts[i].Context.Cluster {
				cluster = &kc.Clusters[j]
			}
		}
		for j := range kc.Users {
			if kc.Users[j].Name == kc.Contexts[i].Context.User {
				user = &kc.Users[j]
			}
		}
	}
	if cluster == nil || user == nil {
		return nil, fmt.Errorf("%s: no cluster and user for the current context %q", path, ctxName)
	}
	cfg := &Config{Server: cluster.Cluster.Server, Token: user.User.Token}
	switch {
	case cluster.Cluster.CertificateAuthorityData != "":
		if cfg.CAData, err = base64.StdEncoding.DecodeString(cluster.Cluster.CertificateAuthorityData); err != nil {
			return nil, fmt.Errorf("%s: certificate-authority-data is not base64: %w", path, err)
		}
	case cluster.Cluster.CertificateAuthority != "":
		caPath := cluster.Cluster.CertificateAuthority
		if !filepath.IsAbs(caPath) {
			caPath = filepath.Join(filepath.Dir(path), caPath)
		}
		if cfg.CAData, err = os.ReadFile(caPath); err != nil {
			return nil, fmt.Errorf("%s: read certificate-authority: %w", path, err)
		}
	}
	if cfg.Token == "" && user.User.TokenFile != "" {
		t, err := os.ReadFile(user.User.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("%s: read tokenFile: %w", path, err)
		}
		cfg.Token = strings.TrimSpace(string(t))
	}
	if cfg.Server == "" {
		return nil, fmt.Errorf("%s: the cluster has no server URL", path)
	}
	return cfg, nil
}

// ErrNoConfig means no config file was found where one is looked for.
var ErrNoConfig = errors.New("no client config: pass --config, set MINIK8S_CONFIG, or run `minik8s cluster up` (which writes ~/.minik8s/config)")

// FindConfig returns the config path to use: explicit if set, else $MINIK8S_CONFIG, else
// ~/.minik8s/config.
func FindConfig(explicit string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	if p := os.Getenv("MINIK8S_CONFIG"); p != "" {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", ErrNoConfig
	}
	p := filepath.Join(home, ".minik8s", "config")
	if _, err := os.Stat(p); err != nil {
		return "", ErrNoConfig
	}
	return p, nil
}
