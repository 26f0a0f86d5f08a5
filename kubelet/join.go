package kubelet

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

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
	// DataDir keeps the credentials of the last join, so that a node that restarts while
	// the control plane is down goes on with them.
	DataDir string
	// Log says what happens while the control plane is unreachable.
	Log *slog.Logger
}

// credentialsFile holds the last join's answer (mode 0600).
const credentialsFile = "credentials.json"

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
	if jc.Log == nil {
		jc.Log = slog.Default()
	}
	boot, err := client.New(&client.Config{Server: jc.Server, CAData: ca, Token: jc.Token})
	if err != nil {
		return nil, err
	}
	body, _ := json.Marshal(api.JoinRequest{NodeName: jc.NodeName, Addresses: jc.Addresses})
	saved := filepath.Join(jc.DataDir, credentialsFile)
	var resp api.JoinResponse
	for wait := time.Second; ; wait = min(2*wait, 15*time.Second) {
		err := boot.Do(ctx, http.MethodPost, api.JoinPath, nil, body, "", &resp)
		if err == nil {
			if jc.DataDir != "" {
				if b, err := json.Marshal(resp); err == nil {
					_ = os.MkdirAll(jc.DataDir, 0o755)
					if err := os.WriteFile(saved, b, 0o600); err != nil {
						jc.Log.Warn("keep the node's credentials", "err", err)
					}
				}
			}
			break
		}
		if client.IsUnauthorized(err) {
			return nil, fmt.Errorf("the server refused the join token: %w (see DATA_DIR/tokens/join on the server)", err)
		}
		var se *client.StatusError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("join %s: %w", jc.Server, err)
		}
		// The control plane does not answer: a node that joined before goes on with what it
		// was given then; a new one waits.
		if b, rerr := os.ReadFile(saved); rerr == nil && json.Unmarshal(b, &resp) == nil && resp.Token != "" {
			jc.Log.Warn("the control plane does not answer; going on with the credentials of the last join", "err", err)
			break
		}
		jc.Log.Warn("the control plane does not answer; trying again", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("join %s: %w", jc.Server, err)
		case <-time.After(wait):
		}
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
