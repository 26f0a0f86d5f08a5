package kubelet

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"os"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
)

// JoinConfig is what a node needs to join a cluster.
type JoinConfig struct {
	Server    string // https://HOST:PORT
	Token     string // the cluster's join token
	CAFile    string // the cluster CA (DATA_DIR/pki/ca.crt of the server)
	NodeName  string
	Addresses []string
}

// Joined is what a node gets when it joins.
type Joined struct {
	Client       *client.Client
	Config       *client.Config
	TLSCert      tls.Certificate
	KubeletToken string
}

// Join trades the join token for the node's own credentials (POST /minik8s/v1/join): a node
// token, a serving certificate for the kubelet, and the token the API server will present to
// it. A wrong token is refused by the server with 401.
func Join(ctx context.Context, jc JoinConfig) (*Joined, error) {
	ca, err := os.ReadFile(jc.CAFile)
	if err != nil {
		return nil, fmt.Errorf("read the cluster CA: %w (copy DATA_DIR/pki/ca.crt from the server)", err)
	}
	boot, err := client.New(&client.Config{Server: jc.Server, CAData: ca, Token: jc.Token})
	if err != nil {
		return nil, err
	}
	body, _ := json.Marshal(api.JoinRequest{NodeName: jc.NodeName, Addresses: jc.Addresses})
	var resp api.JoinResponse
	if err := boot.Do(ctx, http.MethodPost, api.JoinPath, nil, body, "", &resp); err != nil {
		if client.IsUnauthorized(err) {
			return nil, fmt.Errorf("the server refused the join token: %w (see DATA_DIR/tokens/join on the server)", err)
		}
		return nil, fmt.Errorf("join %s: %w", jc.Server, err)
	}
	cert, err := tls.X509KeyPair([]byte(resp.CertPEM), []byte(resp.KeyPEM))
	if err != nil {
		return nil, fmt.Errorf("the server's certificate for this node: %w", err)
	}
	cfg := &client.Config{Server: jc.Server, CAData: ca, Token: resp.Token}
	c, err := client.New(cfg)
	if err != nil {
		return nil, err
	}
	return &Joined{Client: c, Config: cfg, TLSCert: cert, KubeletToken: resp.KubeletToken}, nil
}
